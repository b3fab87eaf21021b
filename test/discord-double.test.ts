import { deflateSync } from "node:zlib";
import {
  type ChatInputCommandInteraction,
  Client,
  type ClientOptions,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  type Interaction,
  MessageFlags,
  RateLimitError,
  Routes,
} from "discord.js";
import { afterEach, describe, expect, it } from "vitest";
import { type DiscordDouble, type DiscordDoubleOptions, startDiscordDouble } from "./discord-double/index.js";
import { pngChunk } from "./images-fixtures.js";

const opened: { double?: DiscordDouble; clients: Client[] } = { clients: [] };

afterEach(async () => {
  for (const client of opened.clients.splice(0)) await client.destroy();
  await opened.double?.close();
  opened.double = undefined;
});

async function start(options: DiscordDoubleOptions = {}): Promise<DiscordDouble> {
  opened.double = await startDiscordDouble(options);
  return opened.double;
}

/** A real discord.js Client pointed at the double, logged in and READY. */
async function connect(double: DiscordDouble, options: Partial<ClientOptions> = {}): Promise<Client<true>> {
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages],
    ...options,
    rest: { api: double.apiBase, ...options.rest },
  });
  opened.clients.push(client);
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(double.token);
  await within(ready, 5000, "clientReady");
  return client as Client<true>;
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function nextInteraction(client: Client): Promise<Interaction> {
  return within(
    new Promise((resolve) => client.once(Events.InteractionCreate, resolve)),
    3000,
    "interactionCreate",
  );
}

/** A tiny but valid RGB PNG. */
function png(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.alloc((width * 3 + 1) * height, 0x7f);
  for (let y = 0; y < height; y++) rows[y * (width * 3 + 1)] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", deflateSync(rows)),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

describe("discord double: gateway", () => {
  it("shards: each session gets its own guilds, and a guild's interactions go to its shard only", async () => {
    const double = await start({ guilds: 2 });
    const [first, second] = double.worlds.map((w) => w.guildId) as [string, string];
    const clients = [
      await connect(double, { shards: 0, shardCount: 2 }),
      await connect(double, { shards: 1, shardCount: 2 }),
    ];
    const shardOf = (id: string) => Number((BigInt(id) >> 22n) % 2n);
    expect(shardOf(first)).not.toBe(shardOf(second));
    for (const [index, client] of clients.entries()) {
      const mine = [first, second].filter((id) => shardOf(id) === index);
      expect([...client.guilds.cache.keys()]).toEqual(mine);
    }
    const seen: [number, string | null][] = [];
    for (const [index, client] of clients.entries())
      client.on(Events.InteractionCreate, (i) => seen.push([index, i.guildId]));
    double.sendCommand({ name: "ping", guildId: second });
    double.sendCommand({ name: "ping", guildId: first });
    await within(
      (async () => {
        while (seen.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      })(),
      2000,
      "both interactions",
    );
    expect(seen.sort()).toEqual(
      [
        [shardOf(first), first],
        [shardOf(second), second],
      ].sort(),
    );
    // Each client identified as its own shard of two.
    const identifies = double.gateway.frames
      .filter((f) => f.dir === "in" && f.op === 2)
      .map((f) => (f.d as { shard: unknown }).shard);
    expect(identifies).toEqual([
      [0, 2],
      [1, 2],
    ]);
  });

  it("lets a real Client log in and receive READY and the configured guild", async () => {
    const double = await start({ members: [{ user: { username: "alice" } }, { user: { username: "bob" } }] });
    const client = await connect(double);
    await within(double.ready, 1000, "double.ready");

    expect(client.user.id).toBe(double.botUserId);
    expect(client.application.id).toBe(double.applicationId);
    const guild = client.guilds.cache.get(double.guildId);
    expect(guild?.available).toBe(true);
    expect(guild?.channels.cache.get(double.channelId)?.isTextBased()).toBe(true);
    expect(guild?.members.cache.map((m) => m.user.username).sort()).toEqual(["Stylize", "alice", "bob"]);

    const gatewayBot = double.requests.find((r) => r.route === "/gateway/bot");
    expect(gatewayBot?.headers.authorization).toBe(`Bot ${double.token}`);
    const identify = double.gateway.frames.find((f) => f.dir === "in" && f.op === 2);
    expect(identify?.d).toMatchObject({ token: double.token, shard: [0, 1] });
    const sent = double.gateway.frames.filter((f) => f.dir === "out" && f.op === 0).map((f) => [f.t, f.s]);
    expect(sent).toEqual([
      ["READY", 1],
      ["GUILD_CREATE", 2],
    ]);
    expect(double.gateway.connections[0]?.path).toBe("/?v=10&encoding=json");
  });

  it("acknowledges heartbeats", async () => {
    const double = await start({ heartbeatIntervalMs: 100 });
    const client = await connect(double);
    const acks = () => double.gateway.frames.filter((f) => f.dir === "out" && f.op === 11).length;
    const deadline = Date.now() + 2000;
    while (acks() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(acks()).toBeGreaterThanOrEqual(2);
    expect(double.gateway.frames.filter((f) => f.dir === "in" && f.op === 1).length).toBeGreaterThanOrEqual(
      2,
    );
    expect(client.ws.ping).toBeGreaterThanOrEqual(0);
  });

  it("resumes the session after a resumable close and replays what the client missed", async () => {
    const double = await start();
    const client = await connect(double);
    const session = [...double.gateway.sessions.values()][0]!;
    const resumed = within(
      new Promise<number>((resolve) => client.once(Events.ShardResume, (_id, replayed) => resolve(replayed))),
      4000,
      "shardResume",
    );
    const roleCreated = new Promise<string>((resolve) =>
      client.once(Events.GuildRoleCreate, (r) => resolve(r.name)),
    );

    double.disconnectGateway(4000);
    // Sent while the socket is down: must be replayed on RESUME.
    double.dispatch("GUILD_ROLE_CREATE", {
      guild_id: double.guildId,
      role: {
        id: "1234567890123456789",
        name: "painters",
        permissions: "0",
        position: 2,
        color: 0,
        hoist: false,
      },
    });

    // discord.js counts sequence numbers since the close: the replayed event plus RESUMED itself.
    expect(await resumed).toBe(2);
    expect(await within(roleCreated, 1000, "roleCreate")).toBe("painters");
    const resume = double.gateway.frames.find((f) => f.dir === "in" && f.op === 6);
    expect(resume?.d).toMatchObject({ token: double.token, session_id: session.id, seq: 2 });
    const resumedFrame = double.gateway.frames.find((f) => f.dir === "out" && f.t === "RESUMED");
    expect(resumedFrame?.s).toBe(4);
    expect(double.gateway.connections.map((c) => c.path.split("?")[0])).toEqual(["/", "/resume"]);
    expect(double.gateway.connections[0]).toMatchObject({ closeCode: 4000, closedBy: "server" });
    expect(session.resumes).toBe(1);
    expect(double.gateway.frames.filter((f) => f.dir === "in" && f.op === 2)).toHaveLength(1);
  });
});

describe("discord double: interactions", () => {
  it("delivers a slash command with an attachment option; deferReply + editReply with a file are recorded", async () => {
    const double = await start();
    const client = await connect(double);
    await client.application.commands.set(
      [
        {
          name: "stylize",
          description: "Paint a photo",
          options: [
            { type: 11, name: "photo", description: "The photo", required: true },
            { type: 3, name: "style", description: "Style", required: true },
          ],
        },
      ],
      double.guildId,
    );
    const registered = double.commands.get(double.guildId)?.[0];
    expect(registered?.name).toBe("stylize");

    const photo = png(6, 4);
    const hosted = double.hostAttachment(photo, { filename: "my photo.png" });
    const output = png(12, 8);
    const handled = (async () => {
      const interaction = (await nextInteraction(client)) as ChatInputCommandInteraction;
      const attachment = interaction.options.getAttachment("photo", true);
      const fetched = Buffer.from(await (await fetch(attachment.url)).arrayBuffer());
      await interaction.deferReply();
      const message = await interaction.editReply({
        content: `painted as ${interaction.options.getString("style")}`,
        files: [{ attachment: output, name: "styled.png" }],
      });
      return { interaction, attachment, fetched, message };
    })();

    const sent = double.sendCommand({ name: "stylize", options: { photo: hosted, style: "starry" } });
    const { interaction, attachment, fetched, message } = await within(handled, 3000, "handler");

    expect(interaction.commandId).toBe(registered?.id);
    expect(interaction.attachmentSizeLimit).toBe(10 * 1024 * 1024);
    expect(attachment).toMatchObject({ name: "my_photo.png", size: photo.length, width: 6, height: 4 });
    expect(attachment.contentType).toBe("image/png");
    expect(fetched.equals(photo)).toBe(true);

    const callback = await sent.response;
    expect(callback.type).toBe(5);
    const edit = await double.waitFor((r) => r.method === "PATCH" && r.route.endsWith("/messages/@original"));
    expect(edit.route).toBe(`/webhooks/${double.applicationId}/:token/messages/@original`);
    expect(edit.path).toContain(sent.token);
    expect(edit.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    expect(edit.files).toHaveLength(1);
    expect(edit.files[0]).toMatchObject({ field: "files[0]", name: "styled.png", contentType: "image/png" });
    expect(edit.files[0]?.data.equals(output)).toBe(true);
    expect(edit.json).toMatchObject({ content: "painted as starry", attachments: [{ id: "0" }] });

    const state = double.originalResponse(sent.token);
    expect(state?.content).toBe("painted as starry");
    expect(state?.flags).toBe(0); // LOADING cleared by the edit
    expect(state?.edits).toHaveLength(1);
    expect(state?.attachments[0]?.data.equals(output)).toBe(true);
    expect(message.id).toBe(state?.id);
    const sentAttachment = message.attachments.first();
    expect(sentAttachment).toMatchObject({ name: "styled.png", width: 12, height: 8, size: output.length });
    expect(sentAttachment?.url).toMatch(
      /\/attachments\/\d+\/\d+\/styled\.png\?ex=[0-9a-f]+&is=[0-9a-f]+&hm=[0-9a-f]{64}&$/,
    );
    const served = Buffer.from(await (await fetch(sentAttachment!.url)).arrayBuffer());
    expect(served.equals(output)).toBe(true);
  });

  it("honours ephemeral replies, sends follow-ups, and answers a second callback with 40060", async () => {
    const double = await start();
    const client = await connect(double);
    const handled = (async () => {
      const interaction = (await nextInteraction(client)) as ChatInputCommandInteraction;
      await interaction.reply({ content: "queued", flags: MessageFlags.Ephemeral });
      const followUp = await interaction.followUp({ content: "done" });
      const second = await client.rest
        .post(Routes.interactionCallback(interaction.id, interaction.token), {
          body: { type: 4, data: { content: "again" } },
          auth: false,
        })
        .catch((e: unknown) => e);
      return { followUp, second };
    })();
    const sent = double.sendCommand({ name: "queue" });
    const { followUp, second } = await within(handled, 3000, "handler");

    const original = double.originalResponse(sent.token);
    expect(original).toMatchObject({ content: "queued", ephemeral: true, flags: 64, type: 20 });
    expect(double.messages.get(followUp.id)).toMatchObject({ content: "done", ephemeral: false });
    expect(second).toBeInstanceOf(DiscordAPIError);
    expect(second).toMatchObject({
      code: 40060,
      status: 400,
      message: "Interaction has already been acknowledged",
    });
  });

  it("surfaces 10062 for a late callback and 50027 for an expired token as DiscordAPIError", async () => {
    const double = await start({ interactionDeadlineMs: 150 });
    const client = await connect(double);

    const late = (async () => {
      const interaction = (await nextInteraction(client)) as ChatInputCommandInteraction;
      await new Promise((r) => setTimeout(r, 250));
      return interaction.deferReply().catch((e: unknown) => e);
    })();
    const first = double.sendCommand({ name: "slow" });
    await expect(first.response).rejects.toThrow(/not acknowledged within 150 ms/);
    expect(await within(late, 3000, "late reply")).toMatchObject({ code: 10062, status: 404 });

    const expired = (async () => {
      const interaction = (await nextInteraction(client)) as ChatInputCommandInteraction;
      await interaction.deferReply();
      double.interactionTokenExpiry(0);
      return interaction.editReply("too late").catch((e: unknown) => e);
    })();
    double.sendCommand({ name: "slow" });
    const error = await within(expired, 3000, "expired edit");
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ code: 50027, status: 401, message: "Invalid Webhook Token" });
  });

  it("rejects files over the attachment size limit with 40005, from multipart bodies", async () => {
    const double = await start({ attachmentSizeLimit: 1024 });
    const client = await connect(double);
    const handled = (async () => {
      const interaction = (await nextInteraction(client)) as ChatInputCommandInteraction;
      expect(interaction.attachmentSizeLimit).toBe(1024);
      return interaction
        .reply({ files: [{ attachment: Buffer.alloc(2048, 1), name: "big.bin" }] })
        .catch((e: unknown) => e);
    })();
    double.sendCommand({ name: "big" });
    expect(await within(handled, 3000, "handler")).toMatchObject({ code: 40005, status: 413 });
    const callback = double.requests.find((r) => r.route.endsWith("/callback"));
    expect(callback?.files[0]).toMatchObject({ field: "files[0]", name: "big.bin" });
    expect(callback?.files[0]?.data.length).toBe(2048);
  });

  it("routes button clicks (UPDATE_MESSAGE) and autocomplete results", async () => {
    const double = await start();
    const client = await connect(double);
    const channel = await client.channels.fetch(double.channelId);
    if (!channel?.isSendable()) throw new Error("channel not sendable");
    const posted = await channel.send({
      content: "pick",
      components: [{ type: 1, components: [{ type: 2, style: 1, custom_id: "again", label: "Again" }] }],
    });
    await posted.react("🎨");
    expect([...(double.messages.get(posted.id)?.reactions.get("🎨") ?? [])]).toEqual([double.botUserId]);

    const clicked = (async () => {
      const interaction = await nextInteraction(client);
      if (!interaction.isButton()) throw new Error("expected a button");
      await interaction.update({ content: `clicked ${interaction.customId}`, components: [] });
    })();
    const click = double.clickButton({ customId: "again", messageId: posted.id });
    await within(clicked, 3000, "button handler");
    expect((await click.response).type).toBe(7);
    expect(double.messages.get(posted.id)).toMatchObject({ content: "clicked again", components: [] });

    const completed = (async () => {
      const interaction = await nextInteraction(client);
      if (!interaction.isAutocomplete()) throw new Error("expected autocomplete");
      const typed = interaction.options.getFocused();
      await interaction.respond([{ name: `${typed}ry night`, value: "starry" }]);
    })();
    const auto = double.sendAutocomplete({ name: "stylize", options: { style: "star" }, focused: "style" });
    await within(completed, 3000, "autocomplete handler");
    expect(await auto.response).toMatchObject({
      type: 8,
      data: { choices: [{ name: "starry night", value: "starry" }] },
    });
  });
  it("shows a modal (type 9), takes its submission, and answers with_response", async () => {
    const double = await start();
    const client = await connect(double);
    const shown = (async () => {
      const interaction = (await nextInteraction(client)) as ChatInputCommandInteraction;
      await interaction.showModal({
        custom_id: "prompt",
        title: "Describe the style",
        components: [{ type: 1, components: [{ type: 4, custom_id: "text", label: "Style", style: 1 }] }],
      });
    })();
    const command = double.sendCommand({ name: "custom" });
    await within(shown, 3000, "modal handler");
    expect(await command.response).toMatchObject({ type: 9, data: { custom_id: "prompt" } });

    const submitted = (async () => {
      const interaction = await nextInteraction(client);
      if (!interaction.isModalSubmit()) throw new Error("expected a modal submission");
      const text = interaction.fields.getTextInputValue("text");
      return interaction.reply({ content: `style: ${text}`, withResponse: true });
    })();
    const submit = double.submitModal({ customId: "prompt", fields: { text: "ukiyo-e" } });
    const callback = await within(submitted, 3000, "submit handler");
    expect(callback.resource?.message?.content).toBe("style: ukiyo-e");
    expect(callback.interaction.responseMessageId).toBe(double.originalResponse(submit.token)?.id);
    const recorded = await double.waitFor(
      (r) => r.route.endsWith("/callback") && r.query.with_response === "true",
    );
    expect(recorded.status).toBe(200);
  });
});

describe("discord double: channel and guild routes", () => {
  it("sends, fetches, edits, reacts to and deletes channel messages; fetches members", async () => {
    const double = await start({ members: [{ user: { id: "200000000000000001", username: "carol" } }] });
    const client = await connect(double);
    const channel = await client.channels.fetch(double.channelId, { force: true });
    if (!channel?.isSendable() || !channel.isTextBased()) throw new Error("channel not sendable");
    await channel.sendTyping();

    const sent = await channel.send({ content: "draft", files: [{ attachment: png(2, 2), name: "a.png" }] });
    expect(sent.attachments.first()).toMatchObject({ width: 2, height: 2, contentType: "image/png" });
    const edited = await sent.edit({ content: "final" });
    expect(edited.attachments.size).toBe(1); // no `attachments` in the edit body: files are kept
    const fetched = await channel.messages.fetch({ message: sent.id, force: true });
    expect(fetched.content).toBe("final");
    expect(double.messages.get(sent.id)?.edits.map((e) => e.content)).toEqual(["final"]);

    await sent.react("👍");
    await sent.reactions.cache.get("👍")?.users.remove(double.botUserId);
    expect(double.messages.get(sent.id)?.reactions.get("👍")?.size).toBe(0);
    expect(
      double.requests
        .filter((r) => r.route.includes("/reactions/"))
        .map((r) => [r.method, r.route.split("/")[6]]),
    ).toEqual([
      ["PUT", "👍"],
      ["DELETE", "👍"],
    ]);

    await sent.delete();
    expect(double.messages.get(sent.id)?.deleted).toBe(true);
    const gone = await channel.messages.fetch({ message: sent.id, force: true }).catch((e: unknown) => e);
    expect(gone).toMatchObject({ code: 10008, status: 404 });

    const guild = client.guilds.cache.get(double.guildId)!;
    const carol = await guild.members.fetch({ user: "200000000000000001", force: true });
    expect(carol.user.username).toBe("carol");
    const missing = await guild.members
      .fetch({ user: "200000000000000002", force: true })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 10007 });
  });
});

describe("discord double: REST failures", () => {
  it("answers an injected 429 with Discord's headers and body", async () => {
    const double = await start();
    double.injectError(
      { method: "POST", route: "/channels/:id/messages" },
      { rateLimit: { retryAfterSeconds: 0.25 } },
    );
    const res = await fetch(`${double.apiBase}/v10/channels/${double.channelId}/messages`, {
      method: "POST",
      headers: { authorization: `Bot ${double.token}`, "content-type": "application/json" },
      body: JSON.stringify({ content: "hi" }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(res.headers.get("x-ratelimit-reset-after")).toBe("0.250");
    expect(res.headers.get("x-ratelimit-scope")).toBe("user");
    expect(res.headers.get("x-ratelimit-limit")).toBe("5");
    expect(res.headers.get("x-ratelimit-bucket")).toMatch(/^[0-9a-f]{32}$/);
    expect(Number(res.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);
    expect(res.headers.get("x-ratelimit-global")).toBeNull();
    expect(await res.json()).toEqual({
      message: "You are being rate limited.",
      retry_after: 0.25,
      global: false,
    });

    double.injectError({ route: /^\/users\/@me$/ }, { rateLimit: { retryAfterSeconds: 2, global: true } });
    const global = await fetch(`${double.apiBase}/v10/users/@me`, {
      headers: { authorization: `Bot ${double.token}` },
    });
    expect(global.status).toBe(429);
    expect(global.headers.get("x-ratelimit-global")).toBe("true");
    expect(global.headers.get("x-ratelimit-scope")).toBe("global");
    expect(((await global.json()) as { global: boolean }).global).toBe(true);
  });

  it("discord.js waits out a per-route 429 and retries the request", async () => {
    const double = await start();
    const client = await connect(double);
    const debug: string[] = [];
    client.rest.on("restDebug", (line) => debug.push(line));
    const channel = await client.channels.fetch(double.channelId);
    if (!channel?.isSendable()) throw new Error("channel not sendable");

    double.injectError(
      { method: "POST", route: "/channels/:id/messages" },
      { rateLimit: { retryAfterSeconds: 0.3 } },
    );
    const message = await within<{ id: string }>(channel.send("after the limit"), 5000, "send");

    const attempts = double.requests.filter((r) => r.method === "POST" && r.route.endsWith("/messages"));
    expect(attempts.map((r) => r.status)).toEqual([429, 200]);
    // @discordjs/rest waits for X-RateLimit-Reset-After (+50 ms offset) before retrying.
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(300);
    expect(debug.some((l) => l.includes("Encountered unexpected 429 rate limit"))).toBe(true);
    expect(double.messages.get(message.id)?.content).toBe("after the limit");
  });

  it("discord.js surfaces a 429 as RateLimitError when told to reject", async () => {
    const double = await start();
    const client = await connect(double, { rest: { rejectOnRateLimit: ["/channels"] } });
    double.injectError(
      { method: "POST", route: "/channels/:id/messages" },
      { rateLimit: { retryAfterSeconds: 5 } },
    );
    const error = await client.rest
      .post(Routes.channelMessages(double.channelId), { body: { content: "x" } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ retryAfter: 5050, global: false, scope: "user" });
  });

  it("injects Discord error codes on matching routes", async () => {
    const double = await start();
    const client = await connect(double);
    double.injectError({ route: "/channels/:id" }, { discordCode: 50035 });
    const error = await client.rest.get(Routes.channel(double.channelId)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ code: 50035, status: 400 });
    // `times` defaults to 1: the next request goes through.
    expect(await client.rest.get(Routes.channel(double.channelId))).toMatchObject({ id: double.channelId });
    const unauth = await fetch(`${double.apiBase}/v10/users/@me`, { headers: { authorization: "Bot nope" } });
    expect(unauth.status).toBe(401);
  });
});

describe("discord double: CDN and lifecycle", () => {
  it("serves hosted attachments until they expire, then 404s like Discord's CDN", async () => {
    const double = await start();
    const bytes = png(3, 3);
    const hosted = double.hostAttachment(bytes, { filename: "a.png", expiresInMs: 150 });
    expect(hosted).toMatchObject({
      filename: "a.png",
      size: bytes.length,
      width: 3,
      height: 3,
      content_type: "image/png",
    });

    const fresh = await fetch(hosted.url);
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await fresh.arrayBuffer()).equals(bytes)).toBe(true);
    const tampered = await fetch(hosted.url.replace(/hm=[0-9a-f]/, "hm=x"));
    expect(tampered.status).toBe(404);
    const unsigned = await fetch(hosted.url.split("?")[0]!);
    expect(unsigned.status).toBe(404);

    await new Promise((r) => setTimeout(r, 200));
    const expired = await fetch(hosted.url);
    expect(expired.status).toBe(404);
    expect(await expired.text()).toBe("This content is no longer available.");
  });

  it("closes cleanly: no listening socket, connections or timers left behind", async () => {
    const handles = () =>
      process
        .getActiveResourcesInfo()
        .filter((r) => r === "TCPServerWrap" || r === "TCPSocketWrap" || r === "Timeout");
    const baseline = handles().length;
    const double = await startDiscordDouble({ heartbeatIntervalMs: 200 });
    const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: double.apiBase } });
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    await client.login(double.token);
    await within(ready, 5000, "clientReady");
    double.sendCommand({ name: "never-answered" });
    await client.destroy();
    await double.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(handles().length).toBeLessThanOrEqual(baseline);
    await expect(fetch(`${double.apiBase}/v10/gateway/bot`)).rejects.toThrow();
  });
});
