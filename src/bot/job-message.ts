import { type Client, DiscordAPIError, RESTJSONErrorCodes, type RepliableInteraction } from "discord.js";
import type { Logger } from "../log.js";
import { loggableError } from "./loggable-error.js";
import { rateLimitDelayMs } from "./throttled-editor.js";
import type { ReplyPayload } from "./views.js";

/**
 * The one message that shows a job from queue to result. It starts as the interaction's (deferred)
 * reply, edited through the interaction webhook. Interaction tokens die after 15 minutes, so a job that
 * outlives its token continues through the bot's own channel access: it edits the same message, or posts
 * a new one mentioning the member if that is impossible. A job resumed after a restart has no
 * interaction at all and lives in the channel from the start.
 */

/** Switch to the channel a little before Discord's 15 minutes run out rather than risk a failed edit. */
const TOKEN_LIFETIME_MS = 14 * 60 * 1000;

const EXPIRED_TOKEN_CODES: ReadonlySet<number | string> = new Set([
  RESTJSONErrorCodes.InvalidWebhookToken, // 50027
  RESTJSONErrorCodes.UnknownWebhook, // 10015
  RESTJSONErrorCodes.UnknownInteraction, // 10062
]);

function isExpiredToken(error: unknown): boolean {
  return error instanceof DiscordAPIError && EXPIRED_TOKEN_CODES.has(error.code);
}

/** Discord's upload limit for bots outside boosted guilds, when no interaction tells us better. */
const DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024;

export class JobMessage {
  readonly #interaction: RepliableInteraction | undefined;
  readonly #client: Client;
  readonly #channelId: string;
  readonly #userId: string;
  readonly #log: Logger;
  #messageId: string | undefined;
  #viaChannel: boolean;

  private constructor(
    client: Client,
    target: { channelId: string; userId: string; interaction?: RepliableInteraction },
    log: Logger,
  ) {
    this.#client = client;
    this.#interaction = target.interaction;
    this.#channelId = target.channelId;
    this.#userId = target.userId;
    this.#viaChannel = target.interaction === undefined;
    this.#log = log;
  }

  /** The deferred reply of an interaction. */
  static forInteraction(interaction: RepliableInteraction, log: Logger): JobMessage {
    return new JobMessage(
      interaction.client,
      { channelId: interaction.channelId ?? "", userId: interaction.user.id, interaction },
      log,
    );
  }

  /** A new message in a channel, mentioning the member (jobs resumed after a restart). */
  static inChannel(client: Client, channelId: string, userId: string, log: Logger): JobMessage {
    return new JobMessage(client, { channelId, userId }, log);
  }

  /** The message's id once a first edit or post went through. */
  get messageId(): string | undefined {
    return this.#messageId;
  }

  /** Largest file Discord accepts in this conversation (boosted guilds allow more). */
  get attachmentSizeLimit(): number {
    return this.#interaction?.attachmentSizeLimit ?? DEFAULT_ATTACHMENT_LIMIT;
  }

  async edit(payload: ReplyPayload): Promise<void> {
    const interaction = this.#interaction;
    if (interaction && !this.#viaChannel && Date.now() - interaction.createdTimestamp > TOKEN_LIFETIME_MS) {
      this.#switchToChannel("the interaction token is about to expire");
    }
    if (interaction && !this.#viaChannel) {
      try {
        const message = await interaction.editReply(payload);
        this.#messageId = message.id;
        return;
      } catch (error) {
        if (!isExpiredToken(error)) throw error;
        this.#switchToChannel(`the interaction token was refused (${(error as DiscordAPIError).code})`);
      }
    }
    await this.#editInChannel(payload);
  }

  #switchToChannel(reason: string): void {
    this.#viaChannel = true;
    this.#log.info({ reason }, "continuing in the channel instead of the interaction reply");
  }

  async #editInChannel(payload: ReplyPayload): Promise<void> {
    const channel = this.#channelId ? await this.#client.channels.fetch(this.#channelId) : null;
    if (!channel?.isSendable()) throw new Error("the job's channel can no longer be reached");
    if (this.#messageId) {
      try {
        await channel.messages.edit(this.#messageId, payload);
        return;
      } catch (error) {
        // Not ours to edit (or gone): post a fresh message below instead.
        if (rateLimitDelayMs(error) !== undefined) throw error;
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
  }
}
