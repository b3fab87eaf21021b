import {
  type Client,
  DiscordAPIError,
  InteractionWebhook,
  type MessageCreateOptions,
  RESTJSONErrorCodes,
} from "discord.js";
import { z } from "zod";
import type { Logger } from "../log.js";
import { loggableError } from "../loggable-error.js";
import { isTransient, rateLimitDelayMs } from "./discord-retry.js";
import type { ReplyPayload } from "./views.js";

/**
 * Where a job's reply lives, and how to reach it. Stored with the job (the job layer keeps it as opaque
 * JSON), so that after a restart the bot answers in the same place. While the interaction token lives
 * (15 minutes), the reply is edited through the interaction webhook, which needs no channel permission;
 * after that through the bot's own channel access: the same message if it can be edited, else a new one
 * that mentions the member.
 */

export const ReplyToSchema = z.object({
  channelId: z.string(),
  /** The reply message, once known. */
  messageId: z.string().optional(),
  interaction: z.object({ applicationId: z.string(), token: z.string(), createdAt: z.number() }).optional(),
  /** Largest file Discord accepts in this conversation (boosted guilds allow more). */
  attachmentLimit: z.number().optional(),
});
export type ReplyTo = z.infer<typeof ReplyToSchema>;

/** Switch to the channel a little before Discord's 15 minutes run out rather than risk a failed edit. */
const TOKEN_LIFETIME_MS = 14 * 60 * 1000;
/** Discord's upload limit for bots outside boosted guilds, when no interaction tells us better. */
export const DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024;

const EXPIRED_TOKEN_CODES: ReadonlySet<number | string> = new Set([
  RESTJSONErrorCodes.InvalidWebhookToken, // 50027
  RESTJSONErrorCodes.UnknownWebhook, // 10015
  RESTJSONErrorCodes.UnknownInteraction, // 10062
]);

function isExpiredToken(error: unknown): boolean {
  return error instanceof DiscordAPIError && EXPIRED_TOKEN_CODES.has(error.code);
}

export class ReplyTarget {
  readonly #client: Client;
  readonly #to: ReplyTo;
  readonly #userId: string;
  readonly #log: Logger;
  #messageId: string | undefined;
  #viaChannel: boolean;
  #ownMessage = false;

  constructor(client: Client, to: ReplyTo, userId: string, log: Logger) {
    this.#client = client;
    this.#to = to;
    this.#userId = userId;
    this.#log = log;
    this.#messageId = to.messageId;
    this.#viaChannel = !this.#tokenAlive();
  }

  get messageId(): string | undefined {
    return this.#messageId;
  }

  /** Whether the reply now lives in a message the bot posted itself, which mentioned the member. */
  get inOwnMessage(): boolean {
    return this.#ownMessage;
  }

  get channelId(): string {
    return this.#to.channelId;
  }

  get attachmentLimit(): number {
    return this.#to.attachmentLimit ?? DEFAULT_ATTACHMENT_LIMIT;
  }

  /** Edits the job's message (or, once that is out of reach, posts a new one). Rejects with Discord's error. */
  async edit(payload: ReplyPayload): Promise<void> {
    if (!this.#viaChannel && !this.#tokenAlive())
      this.#switchToChannel("the interaction token is about to expire");
    if (!this.#viaChannel) {
      try {
        const message = await this.#webhook()!.editMessage("@original", payload);
        this.#messageId = message.id;
        return;
      } catch (error) {
        if (!isExpiredToken(error)) throw error;
        this.#switchToChannel(`the interaction token was refused (${(error as DiscordAPIError).code})`);
      }
    }
    await this.#editInChannel(payload);
  }

  /** A new message that mentions the member (one per job: the "it's ready" ping). */
  async ping(options: Pick<MessageCreateOptions, "content" | "files">): Promise<void> {
    const message = { ...options, allowedMentions: { users: [this.#userId] } };
    if (!this.#viaChannel && this.#tokenAlive()) {
      try {
        await this.#webhook()!.send(message);
        return;
      } catch (error) {
        if (!isExpiredToken(error)) throw error;
        this.#switchToChannel("the interaction token was refused");
      }
    }
    const channel = await this.#channel();
    await channel.send(message);
  }

  #tokenAlive(): boolean {
    const interaction = this.#to.interaction;
    return interaction !== undefined && Date.now() - interaction.createdAt < TOKEN_LIFETIME_MS;
  }

  #webhook(): InteractionWebhook | undefined {
    const interaction = this.#to.interaction;
    return (
      interaction &&
      new InteractionWebhook(this.#client as Client<true>, interaction.applicationId, interaction.token)
    );
  }

  #switchToChannel(reason: string): void {
    this.#viaChannel = true;
    this.#log.info({ reason }, "continuing in the channel instead of the interaction reply");
  }

  async #channel() {
    const channel = await this.#client.channels.fetch(this.#to.channelId);
    if (!channel?.isSendable()) throw new Error("the job's channel can no longer be reached");
    return channel;
  }

  async #editInChannel(payload: ReplyPayload): Promise<void> {
    const channel = await this.#channel();
    if (this.#messageId) {
      try {
        // The bot's own post can be edited; an interaction's reply usually cannot (403 50005).
        await channel.messages.edit(this.#messageId, payload);
        return;
      } catch (error) {
        if (rateLimitDelayMs(error) !== undefined || isTransient(error)) throw error;
        // Not ours to edit (or gone): post a fresh message below instead.
        this.#log.info(
          { err: loggableError(error) },
          "cannot edit the reply in the channel; posting a new message",
        );
        this.#messageId = undefined;
      }
    }
    const message = await channel.send({
      ...payload,
      content: payload.content || `<@${this.#userId}>`,
      allowedMentions: { users: [this.#userId] },
    });
    this.#messageId = message.id;
    this.#ownMessage = true;
  }
}
