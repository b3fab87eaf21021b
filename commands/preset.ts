import {
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
  InteractionContextType,
  MessageFlags,
  SlashCommandBuilder,
  type SlashCommandStringOption,
} from "discord.js";
import { downloadAttachment, precheckAttachment } from "../src/bot/attachments.js";
import type { BotContext } from "../src/bot/command.js";
import {
  DESCRIPTION_LENGTH,
  NAME_LENGTH,
  normalizePresetName,
  renamePreset,
  submitPreset,
} from "../src/bot/community-presets.js";
import { guildOf } from "../src/bot/guild-only.js";
import { isModerator, moderatorsText } from "../src/bot/moderators.js";
import { PresetLimitError } from "../src/bot/preset-limits.js";
import { MAX_CHOICES } from "../src/bot/presets.js";
import { UserError } from "../src/bot/user-error.js";
import { decodeImage } from "../src/images/index.js";
import { type GuildPreset, type PresetStatus, parseCommunityKey } from "../src/store/index.js";

/** /preset: members submit their own style paintings; moderators approve, reject, rename or remove them. */

const nameOption = (verb: string) => (o: SlashCommandStringOption) =>
  o.setName("name").setDescription(`The style to ${verb}`).setRequired(true).setAutocomplete(true);

export const data = new SlashCommandBuilder()
  .setName("preset")
  .setDescription("Community styles: submit a painting, or moderate submissions")
  .setContexts(InteractionContextType.Guild)
  .addSubcommand((s) =>
    s
      .setName("add")
      .setDescription("Submit a painting as a new style for this server")
      .addStringOption((o) =>
        o
          .setName("name")
          .setDescription("What to call the style")
          .setRequired(true)
          .setMinLength(NAME_LENGTH[0])
          .setMaxLength(NAME_LENGTH[1]),
      )
      .addAttachmentOption((o) => o.setName("image").setDescription("The painting").setRequired(true))
      .addStringOption((o) =>
        o.setName("description").setDescription("A few words about it").setMaxLength(DESCRIPTION_LENGTH),
      ),
  )
  .addSubcommand((s) =>
    s.setName("approve").setDescription("Approve a submitted style").addStringOption(nameOption("approve")),
  )
  .addSubcommand((s) =>
    s.setName("reject").setDescription("Reject a submitted style").addStringOption(nameOption("reject")),
  )
  .addSubcommand((s) =>
    s.setName("remove").setDescription("Remove a community style").addStringOption(nameOption("remove")),
  )
  .addSubcommand((s) =>
    s
      .setName("rename")
      .setDescription("Rename a community style")
      .addStringOption(nameOption("rename"))
      .addStringOption((o) =>
        o
          .setName("new_name")
          .setDescription("Its new name")
          .setRequired(true)
          .setMinLength(NAME_LENGTH[0])
          .setMaxLength(NAME_LENGTH[1]),
      ),
  )
  .addSubcommand((s) => s.setName("list").setDescription("This server's community styles and submissions"));

type Moderation = "approve" | "reject" | "remove" | "rename";

export async function execute(interaction: ChatInputCommandInteraction, bot: BotContext): Promise<void> {
  const guildId = guildOf(interaction);
  const sub = interaction.options.getSubcommand();
  if (sub === "add") return add(interaction, bot, guildId);
  if (sub === "list") return list(interaction, bot, guildId);
  return moderate(interaction, bot, guildId, sub as Moderation);
}

async function add(
  interaction: ChatInputCommandInteraction,
  bot: BotContext,
  guildId: string,
): Promise<void> {
  const attachment = interaction.options.getAttachment("image", true);
  const { maxInputBytes } = bot.config.images;
  const name = normalizePresetName(interaction.options.getString("name", true), bot.presets);
  const precheck = precheckAttachment(attachment, maxInputBytes);
  if (precheck) throw new UserError("attachment", precheck);
  // Limits before work: refused before the "thinking…" reply, the download and the decode.
  const refusal = bot.presetGate.admit(guildId, interaction.user.id);
  if (refusal) throw new PresetLimitError(refusal);
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const settings = bot.store.guildSettings(guildId);
  const bytes = await downloadAttachment(attachment, maxInputBytes);
  const { image } = await decodeImage(bytes, { maxBytes: maxInputBytes, maxEdge: 2048 });
  const preset = await submitPreset(
    bot.store,
    bot.presets,
    {
      guildId,
      submitterId: interaction.user.id,
      name,
      description: interaction.options.getString("description") ?? undefined,
      image,
      autoApprove: settings.autoApprove,
    },
    (size, insert) => bot.presetGate.commit(guildId, interaction.user.id, size, insert),
  );
  bot.log.info({ guildId, presetId: preset.id, status: preset.status }, "community preset submitted");
  await interaction.editReply(
    preset.status === "approved"
      ? `Added “${preset.name}” — everyone here can use it now: \`/stylize style:${preset.name}\`.`
      : `Thanks! “${preset.name}” is waiting for a moderator (${moderatorsText(settings)}) to approve it.`,
  );
}

async function moderate(
  interaction: ChatInputCommandInteraction,
  bot: BotContext,
  guildId: string,
  action: Moderation,
): Promise<void> {
  const settings = bot.store.guildSettings(guildId);
  if (!isModerator(interaction, settings)) {
    throw new UserError("not_moderator", `Only ${moderatorsText(settings)} can ${action} community styles.`);
  }
  const typed = interaction.options.getString("name", true);
  const preset = findPreset(bot, guildId, typed);
  if (!preset) throw new UserError("unknown_preset", `There is no community style called “${typed}” here.`);
  const { store } = bot;
  let done: string;
  switch (action) {
    case "approve":
    case "reject": {
      const status: PresetStatus = action === "approve" ? "approved" : "rejected";
      if (preset.status === status)
        throw new UserError("already_moderated", `“${preset.name}” is already ${status}.`);
      store.setPresetStatus(preset.id, status);
      done =
        status === "approved"
          ? `Approved “${preset.name}” — it's in /stylize now.`
          : `Rejected “${preset.name}”.`;
      break;
    }
    case "remove":
      store.removePreset(preset.id);
      done = `Removed “${preset.name}”. Results made with it stay where they are.`;
      break;
    case "rename": {
      const name = normalizePresetName(interaction.options.getString("new_name", true), bot.presets);
      renamePreset(store, preset.id, name);
      done = `Renamed “${preset.name}” to “${name}”.`;
      break;
    }
  }
  bot.log.info(
    { guildId, presetId: preset.id, action, by: interaction.user.id },
    "community preset moderated",
  );
  await interaction.reply({ content: done, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
}

/** By name (case-insensitive), or by the `community:<id>` key autocomplete may hand back. */
function findPreset(bot: BotContext, guildId: string, typed: string): GuildPreset | undefined {
  const byName = bot.store.presetByName(guildId, typed.trim());
  if (byName) return byName;
  const id = parseCommunityKey(typed.trim());
  const byKey = id === undefined ? undefined : bot.store.preset(id);
  return byKey?.guildId === guildId ? byKey : undefined;
}

async function list(
  interaction: ChatInputCommandInteraction,
  bot: BotContext,
  guildId: string,
): Promise<void> {
  const presets = bot.store.presets(guildId);
  const section = (status: PresetStatus, title: string) => {
    const uses = (p: GuildPreset) => (status === "approved" ? ` · used ${p.uses}×` : "");
    const names = presets
      .filter((p) => p.status === status)
      .map((p) => `“${p.name}” by <@${p.submitterId}>${uses(p)}`);
    return names.length > 0 ? `**${title}**\n${names.join("\n")}` : undefined;
  };
  const text = [section("approved", "Styles"), section("pending", "Waiting for a moderator")]
    .filter(Boolean)
    .join("\n\n");
  await interaction.reply({
    content: (text || "No community styles yet — submit one with `/preset add`.").slice(0, 2000),
    flags: MessageFlags.Ephemeral,
    allowedMentions: { parse: [] },
  });
}

export async function autocomplete(interaction: AutocompleteInteraction, bot: BotContext): Promise<void> {
  const guildId = interaction.guildId;
  if (!guildId) return interaction.respond([]);
  const sub = interaction.options.getSubcommand();
  const typed = interaction.options.getFocused().toLowerCase();
  const wanted = (p: GuildPreset) =>
    sub === "approve" ? p.status === "pending" : sub === "reject" ? p.status !== "rejected" : true;
  const choices = bot.store
    .presets(guildId)
    .filter((p) => wanted(p) && p.name.toLowerCase().includes(typed))
    .slice(0, MAX_CHOICES)
    .map((p) => ({ name: `${p.name} (${p.status})`, value: p.name }));
  await interaction.respond(choices);
}
