import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  EmbedBuilder,
  type MessageActionRowComponentBuilder,
} from "discord.js";
import { formatDuration } from "../duration.js";
import { type JobRecord, type JobSettings, UPLOADED_STYLE } from "../jobs/index.js";
import { jobButtonId } from "./custom-ids.js";
import { describeStrength } from "./job.js";
import { describePreset, type Preset } from "./presets.js";

/**
 * What a job's reply looks like in each state. Pure functions from state to a message payload: job-reply.ts
 * decides *when* to edit, this module decides *what* the member sees, in plain words.
 */

export interface ReplyPayload {
  content: string;
  embeds: EmbedBuilder[];
  files: AttachmentBuilder[];
  components: ActionRowBuilder<MessageActionRowComponentBuilder>[];
}

/** The job as the views need it: who, which settings, and whether a restart interrupted it. */
export interface JobView {
  readonly job: Pick<JobRecord, "id" | "userId" | "settings" | "initBlob">;
  readonly preset: Preset | undefined;
  readonly resumed?: boolean;
  /** The settings of the result this job re-rolls or refines. */
  readonly parentSettings?: JobSettings;
}

const COLOUR = { waiting: 0x99aab5, running: 0x5865f2, done: 0x57f287, stopped: 0xed4245 } as const;
const BAR_WIDTH = 20;

export const PREVIEW_NAME = "preview.jpg";
export const RESULT_BASENAME = "stylized";
export const TIMELAPSE_BASENAME = "timelapse";

export function progressBar(fraction: number): string {
  const clamped = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(clamped * BAR_WIDTH);
  return `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)} ${Math.floor(clamped * 100)}%`;
}

export function progressText(fraction: number, etaMs: number): string {
  return [`\`${progressBar(fraction)}\``, `Painting — about ${formatDuration(etaMs)} left`].join("\n");
}

function settingsText({ job }: JobView): string {
  const s = job.settings;
  return [
    `Strength ${describeStrength(s.strength)}`,
    `${s.size} px`,
    s.preserveColors ? "your photo's colours" : "the painting's colours",
    `seed ${s.seed}`,
  ].join(" · ");
}

function header(view: JobView): EmbedBuilder {
  return new EmbedBuilder()
    .setTitle(
      view.preset
        ? `In the style of ${view.preset.title}`
        : view.job.settings.presetId === UPLOADED_STYLE
          ? "In the style of your own painting"
          : "Style transfer",
    )
    .setFooter({
      text: `${settingsText(view)} · job ${view.job.id}${view.resumed ? " · resumed after a restart" : ""}`,
    });
}

function row(...buttons: ButtonBuilder[]): ActionRowBuilder<MessageActionRowComponentBuilder> {
  return new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(...buttons);
}

function cancelRow(view: JobView): ActionRowBuilder<MessageActionRowComponentBuilder> {
  return row(
    new ButtonBuilder()
      .setCustomId(jobButtonId("cancel", view.job.id))
      .setLabel("Cancel")
      .setStyle(ButtonStyle.Danger),
  );
}

function message(view: JobView, colour: number, description: string, extra: Partial<ReplyPayload> = {}) {
  const embed = header(view).setColor(colour).setDescription(description);
  return { content: "", embeds: [embed], files: [], components: [], ...extra } satisfies ReplyPayload;
}

export function waitingView(
  view: JobView,
  wait: { position: number; startsInMs: number; finishesInMs: number; measured: boolean },
): ReplyPayload {
  const description = [
    `<@${view.job.userId}>, you're **#${wait.position}** in the queue.`,
    `Starts in about ${formatDuration(wait.startsInMs)}; done in about ${formatDuration(wait.finishesInMs)}` +
      (wait.measured ? "." : " (a rough guess until the first painting is done)."),
  ].join("\n");
  return message(view, COLOUR.waiting, description, { components: [cancelRow(view)] });
}

export function startingView(
  view: JobView,
  expected: { expectedMs: number; measured: boolean },
): ReplyPayload {
  const guess = expected.measured ? "" : " (a rough guess until the first painting is done)";
  return message(
    view,
    COLOUR.running,
    `Starting — about ${formatDuration(expected.expectedMs)} of painting${guess}.`,
    {
      components: [cancelRow(view)],
    },
  );
}

/** Progress, with the painting so far (already at the result's size) when there is one. */
export function runningView(
  view: JobView,
  progress: { fraction: number; etaMs: number },
  preview?: Buffer,
): ReplyPayload {
  const payload = message(view, COLOUR.running, progressText(progress.fraction, progress.etaMs), {
    components: [cancelRow(view)],
  });
  if (preview) {
    payload.files.push(
      new AttachmentBuilder(preview, { name: PREVIEW_NAME, description: "Preview of the painting so far" }),
    );
    payload.embeds[0]!.setImage(`attachment://${PREVIEW_NAME}`);
  }
  return payload;
}

export function finishingView(view: JobView, preview?: Buffer): ReplyPayload {
  const payload = runningView(view, { fraction: 1, etaMs: 0 }, preview);
  payload.embeds[0]!.setDescription(`\`${progressBar(1)}\`\nFinishing up — saving your painting…`);
  return payload;
}

export interface FinishedResult {
  readonly image: {
    readonly data: Buffer;
    readonly format: string;
    readonly width: number;
    readonly height: number;
  };
  /** From the command to the result: what the member waited. */
  readonly totalMs: number;
  readonly note?: string;
}

export function resultFileName(view: JobView, format: string): string {
  return `${RESULT_BASENAME}-${view.job.settings.seed}.${format === "jpeg" ? "jpg" : format}`;
}

export function doneView(view: JobView, result: FinishedResult): ReplyPayload {
  const name = resultFileName(view, result.image.format);
  const lines = [
    `<@${view.job.userId}>, your painting is ready (${result.image.width}×${result.image.height}, ` +
      `${formatDuration(result.totalMs)} from start to finish).`,
  ];
  if (view.preset) {
    const described = describePreset(view.preset);
    lines.push(
      view.preset.sourceUrl ? `Style: [${described}](${view.preset.sourceUrl})` : `Style: ${described}`,
    );
  }
  const change = changeText(view);
  if (change) lines.push(change);
  lines.push(`Seed **${view.job.settings.seed}** (use it to paint this again)`);
  if (result.note) lines.push(result.note);
  const button = (action: Parameters<typeof jobButtonId>[0], label: string, style = ButtonStyle.Secondary) =>
    new ButtonBuilder().setCustomId(jobButtonId(action, view.job.id)).setLabel(label).setStyle(style);
  const payload = message(view, COLOUR.done, lines.join("\n"), {
    files: [new AttachmentBuilder(result.image.data, { name, description: "The painting" })],
    components: [
      row(
        button("reroll", "Re-roll", ButtonStyle.Primary),
        button("stronger", "Stronger"),
        button("weaker", "Weaker"),
        button("hd", "HD"),
      ),
    ],
  });
  payload.embeds[0]!.setImage(`attachment://${name}`);
  return payload;
}

/** What a Re-roll, Stronger, Weaker or HD changed, in a line; undefined for a first painting. */
export function changeText({ job, parentSettings: before }: JobView): string | undefined {
  if (!before) return undefined;
  const after = job.settings;
  const changes: string[] = [];
  if (after.strength !== before.strength) {
    const direction = after.strength > before.strength ? "Stronger" : "Weaker";
    changes.push(
      `${direction}: strength ${describeStrength(after.strength)} (was ${describeStrength(before.strength)})`,
    );
  }
  if (after.size !== before.size) {
    changes.push(
      job.initBlob
        ? `HD: the same picture, repainted at ${after.size} px (was ${before.size} px)`
        : `Larger: ${after.size} px (was ${before.size} px)`,
    );
  }
  if (after.seed !== before.seed) changes.push(`A fresh take: new seed ${after.seed} (was ${before.seed})`);
  return changes.length > 0 ? changes.join(" · ") : undefined;
}

export function stoppedView(view: JobView, text: string): ReplyPayload {
  return message(view, COLOUR.stopped, text);
}

export function interruptedView(view: JobView): ReplyPayload {
  return message(
    view,
    COLOUR.waiting,
    `<@${view.job.userId}>, the bot is restarting — your painting will carry on as soon as it's back.`,
  );
}

/** The one new message per job that mentions the member: the result is ready, and where. */
export function readyPing(view: JobView, link: string | undefined): string {
  const where = link ? ` — ${link}` : "";
  return `<@${view.job.userId}>, your painting is ready${where}`;
}
