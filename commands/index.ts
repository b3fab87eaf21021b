import type { Command } from "../src/bot/command.js";
import * as favourites from "./favourites.js";
import * as help from "./help.js";
import * as leaderboard from "./leaderboard.js";
import * as preset from "./preset.js";
import * as queue from "./queue.js";
import * as settings from "./settings.js";
import * as styles from "./styles.js";
import * as stylize from "./stylize.js";

/** Every slash command the bot registers and answers. */
export const commands: readonly Command[] = [
  stylize,
  styles,
  queue,
  preset,
  leaderboard,
  favourites,
  settings,
  help,
];
