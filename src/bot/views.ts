import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  EmbedBuilder,
  type MessageActionRowComponentBuilder,
} from "discord.js";
import { formatDuration } from "../duration.js";
import { jobButtonId } from "./custom-ids.js";
import { describeStrength, type Job } from "./job.js";
import { describePreset, type Preset } from "./presets.js";

/**
 * What a job's reply looks like in each state. Pure functions from state to a message payload, so the
 * job service decides *when* to edit and this module decides *what* the member sees.
 */

export interface ReplyPayload {
  content: string;
  embeds: EmbedBuilder[];
  files: AttachmentBuilder[];
  components: ActionRowBuilder<MessageActionRowComponentBuilder>[];
}

export interface ProgressState {
  readonly scale: number;
  readonly scales: number;
  readonly step: number;
  readonly stepsInScale: number;
  readonly overallStep: number;
  readonly totalSteps: number;
  readonly etaMs: number;
}

const COLOUR = { waiting: 0x99aab5, running: 0x5865f2, done: 0x57f287, stopped: 0xed4245 } as const;
const BAR_WIDTH = 20;

export function progressBar(fraction: number): string {
  const clamped = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(clamped * BAR_WIDTH);
  return `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)} ${Math.floor(clamped * 100)}%`;
}

export function progressText(progress: ProgressState): string {
  return [
    `\`${progressBar(progress.overallStep / progress.totalSteps)}\``,
    `Scale ${progress.scale + 1}/${progress.scales} · step ${progress.step}/${progress.stepsInScale} · ` +
      `${progress.overallStep}/${progress.totalSteps} overall · about ${formatDuration(progress.etaMs)} left`,
  ].join("\n");
}

function settingsText(job: Job): string {
  const s = job.settings;
  return [
    `Strength ${describeStrength(s.strength)}`,
    `quality ${s.quality}`,
    `${s.size} px`,
    s.preserveColors ? "original colours" : "painting's colours",
    `seed ${s.seed}`,
  ].join(" · ");
}

function header(job: Job, preset: Preset | undefined): EmbedBuilder {
  return new EmbedBuilder()
    .setTitle(preset ? `In the style of ${preset.title}` : "Style transfer")
    .setFooter({
      text: `${settingsText(job)} · job ${job.id}${job.resumed ? " · resumed after a restart" : ""}`,
    });
}

function row(...buttons: ButtonBuilder[]): ActionRowBuilder<MessageActionRowComponentBuilder> {
  return new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(...buttons);
}

function cancelRow(job: Job): ActionRowBuilder<MessageActionRowComponentBuilder> {
  return row(
    new ButtonBuilder()
      .setCustomId(jobButtonId("cancel", job.id))
      .setLabel("Cancel")
      .setStyle(ButtonStyle.Danger),
  );
}

export function waitingView(
  job: Job,
  preset: Preset | undefined,
  wait: { position: number; startsInMs: number; finishesInMs: number; measured: boolean },
): ReplyPayload {
  const description = [
    `<@${job.userId}>, you're **#${wait.position}** in the queue.`,
    `Starts in about ${formatDuration(wait.startsInMs)}; done in about ${formatDuration(wait.finishesInMs)}` +
      (wait.measured ? "." : " (a rough guess until the first job has run)."),
  ].join("\n");
  return {
    content: "",
    embeds: [header(job, preset).setColor(COLOUR.waiting).setDescription(description)],
    files: [],
    components: [cancelRow(job)],
  };
}

export function startingView(job: Job, preset: Preset | undefined): ReplyPayload {
  return {
    content: "",
    embeds: [
      header(job, preset).setColor(COLOUR.running).setDescription("Starting — warming up the engine…"),
    ],
    files: [],
    components: [cancelRow(job)],
  };
}

export const PREVIEW_NAME = "preview.jpg";
export const RESULT_BASENAME = "stylized";
export const TIMELAPSE_BASENAME = "timelapse";

export function runningView(
  job: Job,
  preset: Preset | undefined,
  progress: ProgressState | undefined,
  preview: Buffer | undefined,
): ReplyPayload {
  const embed = header(job, preset)
    .setColor(COLOUR.running)
    .setDescription(progress ? progressText(progress) : "Starting…");
  const files: AttachmentBuilder[] = [];
  if (preview) {
    files.push(
      new AttachmentBuilder(preview, { name: PREVIEW_NAME, description: "Preview of the painting so far" }),
    );
    embed.setImage(`attachment://${PREVIEW_NAME}`);
  }
  return { content: "", embeds: [embed], files, components: [cancelRow(job)] };
}

export interface FinishedResult {
  readonly image: {
    readonly data: Buffer;
    readonly format: string;
    readonly width: number;
    readonly height: number;
  };
  readonly timelapse: { readonly data: Buffer; readonly format: string } | undefined;
  readonly elapsedMs: number;
  readonly note?: string;
}

export function doneView(job: Job, preset: Preset | undefined, result: FinishedResult): ReplyPayload {
  const extension = result.image.format === "jpeg" ? "jpg" : result.image.format;
  const resultName = `${RESULT_BASENAME}-${job.settings.seed}.${extension}`;
  const lines = [
    `<@${job.userId}>, your painting is ready (${result.image.width}×${result.image.height}, ` +
      `${formatDuration(result.elapsedMs)}).`,
  ];
  if (preset) lines.push(`Style: [${describePreset(preset)}](${preset.sourceUrl}) (${preset.licence})`);
  lines.push(`Seed **${job.settings.seed}**`);
  if (result.note) lines.push(result.note);
  const files = [
    new AttachmentBuilder(result.image.data, { name: resultName, description: "The stylized image" }),
  ];
  if (result.timelapse) {
    files.push(
      new AttachmentBuilder(result.timelapse.data, {
        name: `${TIMELAPSE_BASENAME}.${result.timelapse.format}`,
        description: "Timelapse of the painting emerging",
      }),
    );
  }
  const button = (action: Parameters<typeof jobButtonId>[0], label: string, style = ButtonStyle.Secondary) =>
    new ButtonBuilder().setCustomId(jobButtonId(action, job.id)).setLabel(label).setStyle(style);
  return {
    content: "",
    embeds: [
      header(job, preset)
        .setColor(COLOUR.done)
        .setDescription(lines.join("\n"))
        .setImage(`attachment://${resultName}`),
    ],
    files,
    components: [
      row(
        button("reroll", "Re-roll", ButtonStyle.Primary),
        button("stronger", "Stronger"),
        button("weaker", "Weaker"),
        button("hd", "HD"),
      ),
    ],
  };
}

export function stoppedView(job: Job, preset: Preset | undefined, message: string): ReplyPayload {
  return {
    content: "",
    embeds: [header(job, preset).setColor(COLOUR.stopped).setDescription(message)],
    files: [],
    components: [],
  };
}
