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
import { loggableError } from "../loggable-error.js";
import type { ResultRecord, Store } from "../store/index.js";
import { repostToHallOfFame } from "./hall-of-fame.js";

/**
 * Reaction votes on result messages. Everything needed is the reaction event itself plus the store (which
 * knows the result's requester and guild), so votes on messages discord.js never cached count the same
 * (partials). The store keeps one vote per member and message, so a repeated event changes nothing.
 *
 * Each reaction is one queued store write (Store.enqueue): a locked or full database delays votes but
 * never drops them or freezes the bot, and they are counted in the order they came.
 */

type AnyReaction = MessageReaction | PartialMessageReaction;
type AnyUser = User | PartialUser;

interface Reaction {
  readonly messageId: string;
  readonly emoji: ReactionEmoji | { id: string | null; name: string | null };
}

/** A new vote that reached the guild's hall-of-fame threshold first: repost it there. */
interface HallOfFameEntry {
  readonly result: ResultRecord;
  readonly channelId: string;
  readonly votes: number;
}

export function listenForVotes(client: Client, store: Store, log: Logger): void {
  /** Queues the store side of a reaction; a vote that fails for good (a bug) is logged, never thrown. */
  const record = (work: () => HallOfFameEntry | undefined) => {
    store.enqueue(work).then(
      (entry) => {
        if (!entry) return;
        void repostToHallOfFame(client, entry.result, entry.channelId, entry.votes).catch((error: unknown) =>
          log.warn(
            { err: loggableError(error), messageId: entry.result.messageId },
            "hall of fame repost failed",
          ),
        );
      },
      (error: unknown) => log.error({ err: loggableError(error) }, "could not count a vote"),
    );
  };
  /** The bot's own reaction and other bots' are no votes. */
  const isBot = (user: AnyUser) => user.id === client.user?.id || user.bot === true;
  client.on(Events.MessageReactionAdd, (reaction, user) => {
    if (!isBot(user)) record(() => addVote(store, bare(reaction), user.id));
  });
  client.on(Events.MessageReactionRemove, (reaction, user) => {
    if (!isBot(user)) record(() => removeVote(store, bare(reaction), user.id));
  });
  // Someone cleared the reactions (or just the vote emoji): the votes they were go too.
  client.on(Events.MessageReactionRemoveAll, (message) => {
    record(() => {
      if (store.result(message.id)) store.removeAllVotes(message.id);
      return undefined;
    });
  });
  client.on(Events.MessageReactionRemoveEmoji, (reaction) => {
    const { messageId, emoji } = bare(reaction);
    record(() => {
      const result = store.result(messageId);
      if (result && isVoteEmoji(emoji, store.guildSettings(result.guildId).voteEmoji)) {
        store.removeAllVotes(messageId);
      }
      return undefined;
    });
  });
}

/** What a queued vote needs of a reaction (discord.js may change the object before the write runs). */
function bare(reaction: AnyReaction): Reaction {
  return { messageId: reaction.message.id, emoji: { id: reaction.emoji.id, name: reaction.emoji.name } };
}

/** The result a reaction votes on, when it is a result message and the vote emoji, by anyone but its requester. */
function votedResult(store: Store, reaction: Reaction, voterId: string): ResultRecord | undefined {
  const result = store.result(reaction.messageId);
  if (!result || voterId === result.requesterId) return undefined; // a star for one's own painting is no vote
  return isVoteEmoji(reaction.emoji, store.guildSettings(result.guildId).voteEmoji) ? result : undefined;
}

function removeVote(store: Store, reaction: Reaction, voterId: string): undefined {
  const result = votedResult(store, reaction, voterId);
  if (result) store.removeVote(result.messageId, voterId);
  return undefined;
}

function addVote(store: Store, reaction: Reaction, voterId: string): HallOfFameEntry | undefined {
  const result = votedResult(store, reaction, voterId);
  if (!result || !store.addVote(result.messageId, voterId)) return undefined;
  const { hallOfFameThreshold: threshold, hallOfFameChannelId: channelId } = store.guildSettings(
    result.guildId,
  );
  if (!threshold || !channelId) return undefined;
  const votes = store.votes(result.messageId);
  return votes >= threshold && store.claimHallOfFame(result.messageId)
    ? { result, channelId, votes }
    : undefined;
}

/** Variation selectors differ between clients (⭐ vs ⭐️); they don't make a different emoji. */
function withoutVariation(text: string): string {
  return text.replace(/\uFE0F/g, "");
}

/** The configured emoji is a unicode emoji or a custom one written `<:name:id>` / `<a:name:id>`. */
export function isVoteEmoji(
  emoji: ReactionEmoji | { id: string | null; name: string | null },
  configured: string,
) {
  const custom = /^<a?:\w+:(\d+)>$/.exec(configured.trim());
  if (custom) return emoji.id === custom[1];
  return (
    emoji.id === null &&
    emoji.name !== null &&
    withoutVariation(emoji.name) === withoutVariation(configured.trim())
  );
}
