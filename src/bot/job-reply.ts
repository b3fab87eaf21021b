import { setTimeout as sleep } from "node:timers/promises";
import { AttachmentBuilder } from "discord.js";
import sharp from "sharp";
import { encodeToFit } from "../images/index.js";
import type { EncodedImage, JobEvent, JobRecord, JobRunner, JobSettings, StopReason } from "../jobs/index.js";
import type { Logger } from "../log.js";
import { loggableError } from "../loggable-error.js";
import type { Store } from "../store/index.js";
import { withDiscordRetry } from "./discord-retry.js";
import type { Preset } from "./presets.js";
import type { ReplyTarget } from "./reply-target.js";
import { ThrottledEditor } from "./throttled-editor.js";
import {
  doneView,
  finishingView,
  interruptedView,
  type JobView,
  type ReplyPayload,
  readyPing,
  runningView,
  startingView,
  stoppedView,
  TIMELAPSE_BASENAME,
  waitingView,
} from "./views.js";

/**
 * One job's reply: the only place job events become Discord words. Progress goes through a throttled
 * editor (frames may be dropped); the job's ending is delivered with retries through rate limits and
 * outages, and reported to the runner only once Discord accepted it, so a restart delivers it again if
 * not. When the result is in place the member gets one new message that mentions them (with the timelapse).
 */

export interface JobReplyOptions {
  readonly job: JobRecord;
  readonly preset: Preset | undefined;
  /** The settings of the job this one re-rolls or refines, to say what changed. */
  readonly parentSettings?: JobSettings;
  readonly target: ReplyTarget;
  readonly runner: JobRunner;
  readonly store: Store;
  readonly log: Logger;
  readonly progressIntervalMs: number;
  /** How long an ending keeps being retried through an outage before waiting for the next start. */
  readonly deliveryDeadlineMs: number;
  /** Whether the job was taken up again after a restart (said in the footer). */
  readonly resumed: boolean;
  /** Called once the reply has nothing left to do. */
  readonly onClosed: () => void;
}

/** How long the ping waits for the timelapse before going without it. */
const TIMELAPSE_WAIT_MS = 20_000;

export class JobReply {
  readonly #options: JobReplyOptions;
  readonly #view: JobView;
  readonly #editor: ThrottledEditor<ReplyPayload>;
  #preview: Buffer | undefined;
  #timelapse: ((animation: EncodedImage | undefined) => void) | undefined;
  readonly #timelapseReady: Promise<EncodedImage | undefined>;
  #ending = false;

  constructor(options: JobReplyOptions) {
    this.#options = options;
    this.#view = {
      job: options.job,
      preset: options.preset,
      resumed: options.resumed,
      parentSettings: options.parentSettings,
    };
    this.#editor = new ThrottledEditor(
      (payload) => options.target.edit(payload),
      options.progressIntervalMs,
      options.log,
    );
    this.#timelapseReady = new Promise((resolve) => {
      this.#timelapse = resolve;
    });
  }

  handle(event: JobEvent): void {
    const view = this.#view;
    switch (event.type) {
      case "waiting":
        this.#editor.update(() => waitingView(view, event));
        return;
      case "started":
        this.#editor.update(() => startingView(view, event));
        return;
      case "progress":
        if (event.preview) this.#preview = event.preview.data;
        this.#editor.update(() => runningView(view, event, this.#preview));
        return;
      case "finishing":
        this.#editor.update(() => finishingView(view, this.#preview));
        return;
      case "timelapse":
        this.#timelapse?.(event.animation);
        return;
      case "done":
        void this.#end("result", () => this.#deliverResult(event));
        return;
      case "stopped":
        void this.#end("ending", async () => {
          await this.#deliver(stoppedView(view, stopText(view.job.userId, event.reason, event.detail)));
          await this.#options.runner.markReported(view.job.id);
        });
        return;
      case "interrupted":
        // Shutting down: a short try; the job runs again after the restart and replies then.
        void this.#end("interruption", () => this.#deliver(interruptedView(view), 10_000));
        return;
    }
  }

  /** Stops progress updates (shutdown); an ending in flight carries on. */
  close(): void {
    this.#editor.close();
  }

  /** Sends the job's last word (which reports it to the runner once Discord took it), then closes. */
  async #end(what: string, deliver: () => Promise<void>): Promise<void> {
    if (this.#ending) return;
    this.#ending = true;
    const { log } = this.#options;
    try {
      const blocked = await this.#editor.settle();
      if (blocked > 0) await sleep(blocked);
      await deliver();
    } catch (error) {
      log.error(
        { err: loggableError(error), what },
        "could not tell the member how the job ended; it is retried at the next start",
      );
    } finally {
      this.#timelapse?.(undefined);
      this.#options.onClosed();
    }
  }

  #deliver(payload: ReplyPayload, deadlineMs = this.#options.deliveryDeadlineMs): Promise<void> {
    const { target, log } = this.#options;
    return withDiscordRetry(() => target.edit(payload), { deadlineMs, log, what: "job reply" });
  }

  async #deliverResult(event: Extract<JobEvent, { type: "done" }>): Promise<void> {
    const { target, log, job } = this.#options;
    const limit = target.attachmentLimit;
    const image = await fitForUpload(event.image, limit);
    const note =
      image.width !== event.image.width
        ? `Shrunk to ${image.width}×${image.height} to fit Discord's upload limit.`
        : undefined;
    const done = doneView(this.#view, { image, totalMs: event.totalMs, note });
    await this.#deliver(done);
    this.#recordResult();
    await this.#options.runner.markReported(job.id);
    // The timelapse and the ping are a courtesy on top of a delivered result: bounded, never a reason to
    // deliver it again.
    const animation = await Promise.race([
      this.#timelapseReady,
      sleep(TIMELAPSE_WAIT_MS).then(() => undefined),
    ]);
    const timelapse =
      animation && animation.data.length <= limit
        ? [
            new AttachmentBuilder(animation.data, {
              name: `${TIMELAPSE_BASENAME}.${animation.format}`,
              description: "How the painting came together",
            }),
          ]
        : [];
    // A result that had to go out as a new message already mentioned the member: no second message.
    const send = target.inOwnMessage
      ? () =>
          timelapse.length > 0
            ? target.edit({ ...done, files: [...done.files, ...timelapse] })
            : Promise.resolve()
      : () => target.ping({ content: readyPing(this.#view, this.#messageLink()), files: timelapse });
    await withDiscordRetry(send, { deadlineMs: 60_000, log, what: "ready ping" }).catch((error: unknown) =>
      log.warn({ err: loggableError(error) }, "could not send the ready ping"),
    );
  }

  /**
   * The delivered result is what members vote on, in guilds. Queued: a locked or full database delays the
   * record (and the votes on it, queued after it) but never loses it.
   */
  #recordResult(): void {
    const { job, target, store, log } = this.#options;
    if (!job.guildId || !target.messageId) return;
    const record = {
      messageId: target.messageId,
      channelId: target.channelId,
      guildId: job.guildId,
      requesterId: job.userId,
      preset: job.settings.presetId,
      settings: job.settings,
      seed: job.settings.seed,
      createdAt: Date.now(),
    };
    store
      .enqueue(() => store.recordResult(record))
      .catch((error: unknown) =>
        log.warn({ err: loggableError(error) }, "could not record the delivered result"),
      );
  }

  #messageLink(): string | undefined {
    const { job, target } = this.#options;
    if (!target.messageId) return undefined;
    return `https://discord.com/channels/${job.guildId ?? "@me"}/${target.channelId}/${target.messageId}`;
  }
}

/** The stored PNG when it fits the upload limit, else a smaller encoding of it. */
async function fitForUpload(image: EncodedImage, limit: number): Promise<EncodedImage> {
  if (image.data.length <= limit) return image;
  const { data, info } = await sharp(image.data).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return encodeToFit({ data, width: info.width, height: info.height }, limit);
}

/** What the member reads when a job ended without a result. */
export function stopText(userId: string, reason: StopReason, detail: string | undefined): string {
  const sorry = `Sorry <@${userId}> — `;
  switch (reason) {
    case "cancelled":
      return `Cancelled by <@${userId}>.`;
    case "style_missing":
      return `${sorry}${detail ?? "that style is no longer available"}. Pick another one with /styles.`;
    case "crashed":
      return `${sorry}${detail ?? "the painting engine crashed during this job"}. Nothing else was affected; please try again.`;
    case "timed_out":
      return `${sorry}${detail ?? "the painting took too long"}. Try a smaller size.`;
    case "unavailable":
      return `${sorry}the painting engine isn't available right now${detail ? ` (${detail})` : ""}. Please try again later.`;
    case "failed":
      return `${sorry}something went wrong while painting. Please try again.`;
  }
}
