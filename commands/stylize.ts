import {
  type Attachment,
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
  SlashCommandBuilder,
} from "discord.js";
import { downloadAttachment, precheckAttachment } from "../src/bot/attachments.js";
import type { BotContext } from "../src/bot/command.js";
import { STRENGTH_CHOICES, type StrengthName } from "../src/bot/job.js";
import { outputSizeFor } from "../src/bot/output-size.js";
import { describePreset, type Preset } from "../src/bot/presets.js";
import { deferReply, reserveJob, submitJob, withReservation } from "../src/bot/start-job.js";
import { UserError } from "../src/bot/user-error.js";
import { decodeImage, encodeImage } from "../src/images/index.js";
import { MAX_SEED, randomSeed, UPLOADED_STYLE } from "../src/jobs/index.js";

/** Discord's own bounds for the size option; the configured maximum is checked when the command runs. */
const SIZE_RANGE = [64, 2048] as const;

export const data = new SlashCommandBuilder()
  .setName("stylize")
  .setDescription("Paint your photo in the style of a famous artwork")
  .addAttachmentOption((o) => o.setName("image").setDescription("The photo to paint").setRequired(true))
  .addStringOption((o) =>
    o
      .setName("style")
      .setDescription("The artwork whose style to use (or attach your own as style_image)")
      .setAutocomplete(true),
  )
  .addAttachmentOption((o) =>
    o.setName("style_image").setDescription("A painting of your own to use as the style, for this job only"),
  )
  .addStringOption((o) =>
    o
      .setName("strength")
      .setDescription("How strongly the style takes over (default balanced)")
      .addChoices(...Object.keys(STRENGTH_CHOICES).map((name) => ({ name, value: name }))),
  )
  .addIntegerOption((o) =>
    o
      .setName("size")
      .setDescription("Long edge of the result in pixels")
      .setMinValue(SIZE_RANGE[0])
      .setMaxValue(SIZE_RANGE[1]),
  )
  .addBooleanOption((o) =>
    o.setName("preserve_colors").setDescription("Keep your photo's colours, take only the brushwork"),
  )
  .addIntegerOption((o) =>
    o
      .setName("seed")
      .setDescription("Repeat a result exactly (shown under every image)")
      .setMinValue(0)
      .setMaxValue(MAX_SEED),
  );

export async function execute(interaction: ChatInputCommandInteraction, bot: BotContext): Promise<void> {
  const { options } = interaction;
  const photo = options.getAttachment("image", true);
  const styleImage = options.getAttachment("style_image");
  const size = options.getInteger("size") ?? bot.config.images.defaultSize;
  const { maxSize, maxInputBytes } = bot.config.images;

  // Everything checkable without I/O is refused at once, privately, before the reply goes public.
  const preset = styleImage ? undefined : presetFor(options.getString("style"), interaction, bot);
  if (size > maxSize) {
    throw new UserError("size_too_large", `The largest size I paint is ${maxSize} px — pick a smaller size.`);
  }
  for (const attachment of [photo, styleImage]) {
    const problem = attachment && precheckAttachment(attachment, maxInputBytes);
    if (problem) throw new UserError("attachment", problem);
  }
  // Discord tells an image's size before any download: an impossible shape is refused now.
  if (photo.width && photo.height) outputSizeFor(photo.width, photo.height, size, maxSize);

  // The limits are held before the placeholder, the download and the decode.
  const reservation = await reserveJob(interaction, bot);
  await withReservation(bot, reservation, async () => {
    const replyTo = await deferReply(interaction);
    // Keep enough pixels for a later HD pass, no more; a painting is matched at about the result's size.
    const fetchImage = async (attachment: Attachment) =>
      (
        await decodeImage(await downloadAttachment(attachment, maxInputBytes), {
          maxBytes: maxInputBytes,
          maxEdge: maxSize,
        })
      ).image;
    const image = await fetchImage(photo);
    const painting = styleImage ? await fetchImage(styleImage) : undefined;
    await submitJob(interaction, bot, reservation, {
      content: await encodeImage(image, { format: "png" }),
      styleImage: painting ? await encodeImage(painting, { format: "png" }) : undefined,
      replyTo,
      settings: {
        presetId: preset?.id ?? UPLOADED_STYLE,
        strength: STRENGTH_CHOICES[(options.getString("strength") ?? "balanced") as StrengthName],
        // One schedule for members: the presets differ in time, not in the picture (docs/look.md).
        quality: "balanced",
        size: outputSizeFor(image.width, image.height, size, maxSize),
        preserveColors: options.getBoolean("preserve_colors") ?? false,
        seed: options.getInteger("seed") ?? randomSeed(),
      },
    });
  });
}

/** The installed style a member named, or a refusal saying what to do. */
function presetFor(
  styleId: string | null,
  interaction: ChatInputCommandInteraction,
  bot: BotContext,
): Preset {
  if (!styleId) {
    throw new UserError(
      "no_style",
      "Pick a style as you type (see them all with /styles), or attach a painting of your own as style_image.",
    );
  }
  const preset = bot.presets.resolve(styleId, interaction.guildId ?? undefined);
  if (!preset) {
    throw new UserError(
      "unknown_style",
      bot.presets.presets.length === 0
        ? "No styles are installed on this bot yet — ask its admin to run `npm run models`, or attach a painting of your own as style_image."
        : `I don't know the style “${styleId}”. Pick one from the list as you type, or see them all with /styles.`,
    );
  }
  if (!bot.presets.isInstalled(preset)) {
    throw new UserError(
      "style_not_installed",
      `The painting for “${preset.title}” isn't installed on this bot yet — pick another style, or ask the bot's admin to run \`npm run models\`.`,
    );
  }
  return preset;
}

export async function autocomplete(interaction: AutocompleteInteraction, bot: BotContext): Promise<void> {
  const typed = interaction.options.getFocused();
  const guildId = interaction.guildId ?? undefined;
  // Built-in and the guild's approved community presets, the guild's most used and voted for first.
  const popularity = guildId ? bot.store.presetPopularity(guildId) : undefined;
  const choices = bot.presets.search(typed, { guildId, popularity }).map((preset) => ({
    // Choice names are capped at 100 characters.
    name: describePreset(preset).slice(0, 100),
    value: preset.id,
  }));
  await interaction.respond(choices); // search() returns at most MAX_CHOICES
}
