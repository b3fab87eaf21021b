import {
  ChannelType,
  type ChatInputCommandInteraction,
  InteractionContextType,
  MessageFlags,
  PermissionFlagsBits,
  SlashCommandBuilder,
} from "discord.js";
import type { BotContext } from "../src/bot/command.js";
import { guildOf } from "../src/bot/guild-only.js";
import { describeSettings, parseChannelList, parseVoteEmoji, SettingsError } from "../src/bot/settings.js";
import { UserError } from "../src/bot/user-error.js";
import type { GuildSettings } from "../src/store/index.js";

/** /settings: a server's own rules for votes, community presets and jobs (Manage Server only). */

const CLEARABLE = {
  moderator_role: { moderatorRoleId: undefined },
  hall_of_fame: { hallOfFameChannelId: undefined, hallOfFameThreshold: undefined },
  per_user_limit: { perUserLimit: undefined },
  allowed_channels: { allowedChannelIds: [] },
  vote_emoji: { voteEmoji: undefined },
} satisfies Record<string, Partial<Record<keyof GuildSettings, unknown>>>;

export const data = new SlashCommandBuilder()
  .setName("settings")
  .setDescription("This server's settings for votes, community styles and jobs")
  .setContexts(InteractionContextType.Guild)
  .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
  .addSubcommand((s) => s.setName("show").setDescription("Show the current settings"))
  .addSubcommand((s) =>
    s
      .setName("set")
      .setDescription("Change one or more settings")
      .addBooleanOption((o) =>
        o.setName("auto_approve").setDescription("Community styles go live without a moderator"),
      )
      .addRoleOption((o) =>
        o.setName("moderator_role").setDescription("A role that may moderate community styles"),
      )
      .addStringOption((o) =>
        o
          .setName("vote_emoji")
          .setDescription("The reaction that counts as a vote (default ⭐)")
          .setMaxLength(64),
      )
      .addChannelOption((o) =>
        o
          .setName("hall_of_fame_channel")
          .setDescription("Where paintings that reach the threshold are reposted")
          .addChannelTypes(ChannelType.GuildText, ChannelType.GuildAnnouncement),
      )
      .addIntegerOption((o) =>
        o
          .setName("hall_of_fame_threshold")
          .setDescription("Votes a painting needs for the hall of fame")
          .setMinValue(1)
          .setMaxValue(1000),
      )
      .addIntegerOption((o) =>
        o
          .setName("per_user_limit")
          .setDescription("Jobs one member may have queued or running here")
          .setMinValue(1)
          .setMaxValue(50),
      )
      .addStringOption((o) =>
        o
          .setName("allowed_channels")
          .setDescription("Channels where /stylize works, e.g. #art #bots (empty = everywhere)")
          .setMaxLength(1000),
      ),
  )
  .addSubcommand((s) =>
    s
      .setName("clear")
      .setDescription("Back to the default for one setting")
      .addStringOption((o) =>
        o
          .setName("setting")
          .setDescription("Which one")
          .setRequired(true)
          .addChoices(...Object.keys(CLEARABLE).map((name) => ({ name, value: name }))),
      ),
  );

export async function execute(interaction: ChatInputCommandInteraction, bot: BotContext): Promise<void> {
  const guildId = guildOf(interaction);
  // Discord hides the command from others by default, but server admins can change that: check anyway.
  if (!interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) {
    throw new UserError(
      "not_admin",
      "Only members with the Manage Server permission can change my settings.",
    );
  }
  const sub = interaction.options.getSubcommand();
  let settings = bot.store.guildSettings(guildId);
  if (sub === "set") {
    settings = bot.store.updateGuildSettings(guildId, changesFrom(interaction, bot, settings));
    bot.log.info({ guildId, by: interaction.user.id }, "guild settings changed");
  } else if (sub === "clear") {
    const setting = interaction.options.getString("setting", true) as keyof typeof CLEARABLE;
    settings = bot.store.updateGuildSettings(guildId, CLEARABLE[setting] as Partial<GuildSettings>);
  }
  await interaction.reply({
    content: describeSettings(settings, bot.config.queue.perUserLimit),
    flags: MessageFlags.Ephemeral,
    allowedMentions: { parse: [] },
  });
}

function changesFrom(
  interaction: ChatInputCommandInteraction,
  bot: BotContext,
  current: GuildSettings,
): Partial<GuildSettings> {
  const o = interaction.options;
  const changes: { -readonly [K in keyof GuildSettings]?: GuildSettings[K] } = {};
  const autoApprove = o.getBoolean("auto_approve");
  if (autoApprove !== null) changes.autoApprove = autoApprove;
  const role = o.getRole("moderator_role");
  if (role) changes.moderatorRoleId = role.id;
  const emoji = o.getString("vote_emoji");
  if (emoji !== null) changes.voteEmoji = parseVoteEmoji(emoji);
  const channel = o.getChannel("hall_of_fame_channel");
  if (channel) changes.hallOfFameChannelId = channel.id;
  const threshold = o.getInteger("hall_of_fame_threshold");
  if (threshold !== null) changes.hallOfFameThreshold = threshold;
  if (
    (changes.hallOfFameChannelId ?? current.hallOfFameChannelId) &&
    !(changes.hallOfFameThreshold ?? current.hallOfFameThreshold)
  ) {
    changes.hallOfFameThreshold = 5; // a channel alone should work: a sensible default threshold
  }
  const limit = o.getInteger("per_user_limit");
  if (limit !== null) {
    if (limit > bot.config.queue.perUserLimit) {
      throw new SettingsError(
        `This bot allows at most ${bot.config.queue.perUserLimit} jobs per member; a server can only lower that.`,
      );
    }
    changes.perUserLimit = limit;
  }
  const channels = o.getString("allowed_channels");
  if (channels !== null) changes.allowedChannelIds = parseChannelList(channels);
  if (Object.keys(changes).length === 0) throw new SettingsError("Pick at least one setting to change.");
  return changes;
}
