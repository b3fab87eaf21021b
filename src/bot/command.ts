import type {
  AutocompleteInteraction,
  ChatInputCommandInteraction,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";
import type { Config } from "../config.js";
import type { JobRunner } from "../jobs/index.js";
import type { Logger } from "../log.js";
import type { Store } from "../store/index.js";
import type { PresetSubmissionGate } from "./preset-limits.js";
import type { PresetCatalog } from "./presets.js";

/** What command handlers get besides their interaction. */
export interface BotContext {
  readonly config: Config;
  readonly jobs: JobRunner;
  readonly presets: PresetCatalog;
  readonly store: Store;
  /** The `/preset add` limits. */
  readonly presetGate: PresetSubmissionGate;
  readonly log: Logger;
}

/** One slash command, the discord.js guide's layout: `data` to register, `execute` to run. */
export interface Command {
  readonly data: { readonly name: string; toJSON(): RESTPostAPIChatInputApplicationCommandsJSONBody };
  execute(interaction: ChatInputCommandInteraction, bot: BotContext): Promise<void>;
  autocomplete?(interaction: AutocompleteInteraction, bot: BotContext): Promise<void>;
}
