import {
  type Client,
  Events,
  type MessageReaction,
  type PartialMessageReaction,
  type PartialUser,
  type ReactionEmoji,
  type User,
} from "discord.js";
import type { Logger } from "../log.js";
import type { Store } from "../store/index.js";
import { repostToHallOfFame } from "./hall-of-fame.js";
import { loggableError } from "./loggable-error.js";

/**
 * Reaction votes on result messages. Everything needed is the reaction event itself plus the store (which
 * knows the result's requester and guild), so votes on messages discord.js never cached count the same
 * (partials). The store keeps one vote per member and message, so a repeated event changes nothing.
 */

type AnyReaction = MessageReaction | PartialMessageReaction;
type AnyUser = User | PartialUser;

export function listenForVotes(client: Client, store: Store, log: Logger): void {
  /** A failing vote (say, a locked database) is logged; it must never take the bot down. */
  const guarded =
    <A extends unknown[]>(handler: (...args: A) => void) =>
    (...args: A) => {
      try {
        handler(...args);
      } catch (error) {
        log.error({ err: loggableError(error) }, "could not count a vote");
      }
    };
  client.on(
    Events.MessageReactionAdd,
    guarded((reaction, user) => countVote(client, store, log, reaction, user, "add")),
  );
  client.on(
    Events.MessageReactionRemove,
    guarded((reaction, user) => countVote(client, store, log, reaction, user, "remove")),
  );
  // Someone cleared the reactions (or just the vote emoji): the votes they were go too.
  client.on(
    Events.MessageReactionRemoveAll,
    guarded((message) => {
      if (store.result(message.id)) store.removeAllVotes(message.id);
    }),
  );
  client.on(
    Events.MessageReactionRemoveEmoji,
    guarded((reaction) => {
      const result = store.result(reaction.message.id);
      if (result && isVoteEmoji(reaction.emoji, store.guildSettings(result.guildId).voteEmoji)) {
        store.removeAllVotes(reaction.message.id);
      }
    }),
  );
}

function countVote(
  client: Client,
  store: Store,
  log: Logger,
  reaction: AnyReaction,
  user: AnyUser,
  change: "add" | "remove",
): void {
  const result = store.result(reaction.message.id);
  if (!result) return; // not a result message
  const settings = store.guildSettings(result.guildId);
  if (!isVoteEmoji(reaction.emoji, settings.voteEmoji)) return;
  // The bot's own reaction and the requester's star for their own painting are no votes.
  if (user.id === client.user?.id || user.bot === true || user.id === result.requesterId) return;
  if (change === "remove") {
    store.removeVote(result.messageId, user.id);
    return;
  }
  if (!store.addVote(result.messageId, user.id)) return;
  const threshold = settings.hallOfFameThreshold;
  const channelId = settings.hallOfFameChannelId;
  if (threshold && channelId) {
    const votes = store.votes(result.messageId);
    if (votes >= threshold && store.claimHallOfFame(result.messageId)) {
      void repostToHallOfFame(client, result, channelId, votes).catch((error: unknown) =>
        log.warn({ err: loggableError(error), messageId: result.messageId }, "hall of fame repost failed"),
      );
    }
  }
}

/** Variation selectors differ between clients (⭐ vs ⭐️); they don't make a different emoji. */
function bare(text: string): string {
  return text.replace(/\uFE0F/g, "");
}

/** The configured emoji is a unicode emoji or a custom one written `<:name:id>` / `<a:name:id>`. */
export function isVoteEmoji(
  emoji: ReactionEmoji | { id: string | null; name: string | null },
  configured: string,
) {
  const custom = /^<a?:\w+:(\d+)>$/.exec(configured.trim());
  if (custom) return emoji.id === custom[1];
  return emoji.id === null && emoji.name !== null && bare(emoji.name) === bare(configured.trim());
}
