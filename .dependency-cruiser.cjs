/**
 * The architecture, checked by `npm test` (npm run lint → npm run deps; any violation fails it). Imports
 * run one way, down:
 *
 *   src/main.ts (entry: hands commands/ to the bot)   src/cli/ (the stylize command)
 *   commands/ ─▶ src/bot/ ─▶ src/jobs/ ─▶ src/engine/ through src/engine/index.ts only
 *   beside them: src/images/, src/models/ (model files), src/store/, src/config.ts (the only reader of the
 *   environment), src/log.ts
 *
 * - The engine is pure (images and options in, events out): it imports nothing of the layers above it,
 *   nor config.ts (settings are passed in), nor Discord.
 * - The job layer runs jobs for any front end: no Discord in src/jobs/; only the bot speaks Discord.
 * - Layers point down: src/jobs/ never calls up into the bot; the store, images and models know neither.
 * - Outside src/engine, only src/engine/index.ts is imported. Tests may reach inside, and so may the
 *   benchmarks (scripts/bench.ts, scripts/bench/), which time engine internals directly.
 * - The bot never imports commands/: src/main.ts hands the commands to createBot.
 * - No import cycles anywhere, type-only imports included.
 */

// Anywhere a node_modules may be (a symlinked or hoisted one resolves outside the repo).
const DISCORD = ["(^|/)node_modules/(discord\\.js|@discordjs/[^/]+)/"];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment:
        "An import cycle: two modules that need each other are one module, or one of them is misplaced.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "engine-is-pure",
      comment:
        "src/engine imports nothing of the bot, the jobs, the store, the CLI, the commands, " +
        "the configuration or Discord: those call the engine, never the other way round.",
      severity: "error",
      from: { path: "^src/engine/" },
      to: {
        path: [
          "^src/(bot|jobs|store|cli)/",
          "^commands/",
          "^src/main\\.ts$",
          "^src/config\\.ts$",
          ...DISCORD,
        ],
      },
    },
    {
      name: "layers-point-down",
      comment:
        "The job layer does not call up into the bot; the store, images and models serve the layers " +
        "above them and know none of them.",
      severity: "error",
      from: { path: "^src/(jobs|store|images|models)/" },
      to: { path: ["^src/bot/", "^commands/", "^src/main\\.ts$"] },
    },
    {
      name: "store-below-jobs",
      comment: "The store keeps job rows as data; what a job is belongs to src/jobs, which uses the store.",
      severity: "error",
      from: { path: "^src/(store|images|models)/" },
      to: { path: "^src/jobs/" },
    },
    {
      name: "jobs-without-discord",
      comment:
        "src/jobs runs jobs for any front end; turning job events into Discord words is the bot's job.",
      severity: "error",
      from: { path: "^src/jobs/" },
      to: { path: DISCORD },
    },
    {
      name: "engine-front-door",
      comment:
        "Outside src/engine, import the engine through src/engine/index.ts only " +
        "(tests and the benchmarks in scripts/bench* may reach inside).",
      severity: "error",
      from: { pathNot: ["^src/engine/", "^test/", "^scripts/bench(\\.ts$|/)"] },
      to: { path: "^src/engine/", pathNot: "^src/engine/index\\.ts$" },
    },
    {
      name: "bot-without-commands",
      comment: "src/bot is handed its commands by the entry point (src/main.ts); it never imports commands/.",
      severity: "error",
      from: { path: "^src/bot/" },
      to: { path: "^commands/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^dist/" },
    // Type-only imports count: an architecture that holds only at run time does not hold.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.test.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
    },
  },
};
