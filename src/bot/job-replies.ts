import type { Client } from "discord.js";
import type { JobEvent, JobRecord, JobRunner } from "../jobs/index.js";
import type { Logger } from "../log.js";
import { loggableError } from "../loggable-error.js";
import type { Store } from "../store/index.js";
import { JobReply } from "./job-reply.js";
import type { PresetCatalog } from "./presets.js";
import { ReplyTarget, type ReplyTo, ReplyToSchema } from "./reply-target.js";

/**
 * Routes the runner's events to one JobReply per job. A reply is made on a job's first event from the
 * job's own record (where to answer is stored with it), so jobs submitted a moment ago and jobs taken up
 * again after a restart are handled alike. Each job's events are handled in order.
 */

const REMEMBERED_CLOSED = 1000;

export interface JobRepliesOptions {
  readonly client: Client;
  readonly runner: JobRunner;
  readonly presets: PresetCatalog;
  readonly store: Store;
  readonly log: Logger;
  readonly progressIntervalMs: number;
  readonly deliveryDeadlineMs: number;
}

export class JobReplies {
  readonly #options: JobRepliesOptions;
  /** Per job: its reply once made (undefined when the job cannot be answered), in event order. */
  readonly #replies = new Map<string, Promise<JobReply | undefined>>();
  /** Jobs whose reply closed: a late event (a timelapse after a failed delivery) makes no new reply. */
  readonly #closed = new Set<string>();
  readonly #startedAt = Date.now();
  readonly #unsubscribe: () => void;

  constructor(options: JobRepliesOptions) {
    this.#options = options;
    this.#unsubscribe = options.runner.onEvent((jobId, event) => this.#route(jobId, event));
  }

  /** Stops listening and stops progress edits (an ending in flight carries on). */
  close(): void {
    this.#unsubscribe();
    for (const reply of this.#replies.values()) void reply.then((r) => r?.close());
  }

  #route(jobId: string, event: JobEvent): void {
    if (this.#closed.has(jobId)) return;
    const reply = this.#replies.get(jobId) ?? this.#create(jobId);
    this.#replies.set(
      jobId,
      reply.then((r) => {
        r?.handle(event);
        return r;
      }),
    );
  }

  #forget(jobId: string): void {
    this.#replies.delete(jobId);
    this.#closed.add(jobId);
    if (this.#closed.size > REMEMBERED_CLOSED) this.#closed.delete(this.#closed.values().next().value!);
  }

  async #create(jobId: string): Promise<JobReply | undefined> {
    const { runner, log } = this.#options;
    const job = await runner.get(jobId).catch((error: unknown) => {
      log.error({ err: loggableError(error), jobId }, "could not read the job to reply to it");
      return undefined;
    });
    const replyTo = ReplyToSchema.safeParse(job?.replyTo);
    if (!job || !replyTo.success) {
      log.warn({ jobId }, "a job without a place to reply; its events are ignored");
      return undefined;
    }
    const parent = job.parentId ? await runner.get(job.parentId).catch(() => undefined) : undefined;
    return this.#reply(job, replyTo.data, parent);
  }

  #reply(job: JobRecord, replyTo: ReplyTo, parent: JobRecord | undefined): JobReply {
    const { client, presets, log } = this.#options;
    const jobLog = log.child({ jobId: job.id });
    return new JobReply({
      ...this.#options,
      job,
      preset: presets.get(job.settings.presetId, job.guildId),
      parentSettings: parent?.settings,
      target: new ReplyTarget(client, replyTo, job.userId, jobLog),
      log: jobLog,
      resumed: job.createdAt < this.#startedAt,
      onClosed: () => this.#forget(job.id),
    });
  }
}
