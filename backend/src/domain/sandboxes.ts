/**
 * Sandboxes (quantatom.v1.SandboxService; issue 14): a private layer of leaf values over a cube,
 * owned by its creator and visible to the users it is shared with (read, or read and write), never
 * to others. Reads and streams through a sandbox see its values where it has them and the base
 * elsewhere, at every level (lattice/overlay.ts); writes, spreads and scenario copies in a sandbox
 * go through the base's write pipeline over a working copy (writes/sandbox-layer.ts) and are durable
 * and audited in the sandbox's tables; CommitSandbox applies them to the base through the conflict
 * check (writes/commit-sandbox.ts). Every change is announced on `sandbox.changed`, so any instance
 * serves any sandbox: an instance that holds it reads it again from the store.
 */
import { randomUUID } from "node:crypto";
import { type SandboxEvent, sandboxOutboxRow } from "../events/contract";
import { LeafOverlay } from "../lattice";
import type { UserRights } from "../security";
import type { SandboxShareAccess, Store, StoredAuditRecord, StoredSandbox, StoredTransaction } from "../store/types";
import { commitSandbox, type SandboxCommitOutcome } from "../writes/commit-sandbox";
import type { WriteContext } from "../writes/context";
import type { ScenarioCopySpec } from "../lattice";
import { copyScenario } from "../writes/copy-scenario";
import { SandboxLayer, workingCopy } from "../writes/sandbox-layer";
import type { ScenarioCopyOutcome, UndoOutcome, WriteInput, WriteOutcome } from "../writes/types";
import { undoTransaction } from "../writes/undo";
import { writeCells } from "../writes/write-cells";
import type { Access } from "./access";
import { type ServedCube, tenantOf } from "./cube-registry";
import { DomainError } from "./errors";

/** Most sandboxes one user may own in one cube. */
export const MAX_SANDBOXES_PER_USER = 100;
/** Longest sandbox name, in characters. */
export const MAX_SANDBOX_NAME = 200;

/** What the caller may do with a sandbox: it owns it, or it was shared with it to write or to read. */
export type SandboxRole = "owner" | "write" | "read";

/** A sandbox as the caller sees it: as stored, with the caller's role. */
export interface SandboxView extends StoredSandbox {
  role: SandboxRole;
}

/** A sandbox this instance holds: as stored, its overlay on the cube, and the served cube it lies over. */
interface Held {
  meta: StoredSandbox;
  overlay: LeafOverlay;
  served: ServedCube;
}

/**
 * The working copy of the sandbox written last (writes/sandbox-layer.ts `workingCopy`), kept for
 * its next write while neither the base (its data version) nor the sandbox (its layer version)
 * changed otherwise: a write applies what it committed to the copy as to the overlay, so a run of
 * writes in one sandbox copies the cube's leaves once.
 */
interface KeptCopy {
  held: Held;
  copy: ServedCube;
  dataVersion: number;
  layerVersion: number;
}

/** What the sandboxes need of the backend. */
export interface SandboxDeps {
  store: Store;
  ctx: WriteContext;
  instanceId: string;
  /** Runs `fn` in the cube's write queue. */
  inQueue<T>(served: ServedCube, fn: () => Promise<T>): Promise<T>;
}

/** The sandboxes of every cube this instance serves (see the module comment). */
export class Sandboxes {
  /** Sandboxes read so far, by id. */
  private readonly held = new Map<string, Promise<Held>>();
  /** One working copy, of the sandbox written last (see KeptCopy). */
  private kept: KeptCopy | null = null;

  constructor(private readonly deps: SandboxDeps) {}

  /**
   * Creates an open sandbox of the caller's cube, owned by the caller.
   * @throws DomainError invalid_argument for an empty or too long name; resource_exhausted over
   *   MAX_SANDBOXES_PER_USER.
   */
  async create(access: Access, name: string): Promise<SandboxView> {
    const trimmed = name.trim();
    if (!trimmed) throw new DomainError('name is required (e.g. "Q3 what-if")', "invalid_argument");
    if (trimmed.length > MAX_SANDBOX_NAME) throw new DomainError(`name is ${trimmed.length} characters long; at most ${MAX_SANDBOX_NAME}`, "invalid_argument");
    const mine = (await this.deps.store.listSandboxes(access.served.id, access.user)).filter((s) => s.owner === access.user);
    if (mine.length >= MAX_SANDBOXES_PER_USER) {
      throw new DomainError(`you own ${mine.length} sandboxes of cube ${access.served.cube.name}, the most allowed; discard one first`, "resource_exhausted");
    }
    const meta = await this.deps.store.createSandbox(access.served.id, randomUUID(), trimmed, access.user);
    return { ...meta, role: "owner" };
  }

  /** The caller's sandboxes of the cube and those shared with the caller, newest first. */
  async list(access: Access): Promise<SandboxView[]> {
    const all = await this.deps.store.listSandboxes(access.served.id, access.user);
    return all.flatMap((s) => {
      const role = roleOf(s, access.user);
      return role ? [{ ...s, role }] : [];
    });
  }

  /**
   * The sandbox `id` as the caller may use it, read from the store the first time.
   * @param need read: any role; write: the owner or a write share, on an open sandbox; owner.
   * @throws DomainError invalid_argument for an empty id; not_found when no sandbox of this cube
   *   has it or the caller has no role on it (the same message); permission_denied without `need`;
   *   failed_precondition to write a committed sandbox.
   */
  async use(access: Access, id: string, need: SandboxRole): Promise<{ overlay: LeafOverlay; meta: StoredSandbox; role: SandboxRole }> {
    const key = id.trim();
    if (!key) throw new DomainError("sandbox is required (an id from ListSandboxes or CreateSandbox)", "invalid_argument");
    const held = await this.hold(key, access.served).catch((err: unknown) => {
      if (err instanceof DomainError) throw notFound(access, key);
      throw err;
    });
    const role = roleOf(held.meta, access.user);
    if (!role || held.meta.cubeId !== access.served.id) throw notFound(access, key);
    if (need === "owner" && role !== "owner") throw new DomainError(`only the owner of sandbox "${held.meta.name}" (${held.meta.owner}) may do that`, "permission_denied");
    if (need === "write" && role === "read") throw new DomainError(`sandbox "${held.meta.name}" is shared with you to read only`, "permission_denied");
    if (need !== "read" && held.meta.state !== "open") {
      throw new DomainError(`sandbox "${held.meta.name}" was committed; it is kept read-only for reference`, "failed_precondition");
    }
    return { overlay: held.overlay, meta: held.meta, role };
  }

  /**
   * Whether the caller still has a role on sandbox `id` as this instance knows it now (shares
   * changed through any instance reach it as `sandbox.changed`): a stream through the sandbox asks
   * before each push, so a user whose share was removed receives nothing more.
   */
  async stillReadable(access: Access, id: string): Promise<boolean> {
    const held = await this.held.get(id.trim())?.catch(() => null);
    return held != null && held.meta.cubeId === access.served.id && roleOf(held.meta, access.user) !== null;
  }

  /**
   * Shares sandbox `id` with `user` (read, or read and write), or stops sharing it (none). Owner only.
   * @throws DomainError as `use`; invalid_argument for an empty user or the owner.
   */
  async share(access: Access, id: string, user: string, shareAccess: SandboxShareAccess): Promise<SandboxView> {
    const { meta } = await this.use(access, id, "owner");
    const who = user.trim();
    if (!who) throw new DomainError("user is required (the user id to share with)", "invalid_argument");
    if (who === meta.owner) throw new DomainError(`${who} owns sandbox "${meta.name}"`, "invalid_argument");
    await this.deps.store.shareSandbox(meta.id, who, shareAccess, this.event(access.served, meta.id, "share"));
    this.deps.ctx.publisher?.kick();
    return { ...(await this.reread(meta.id)), role: "owner" };
  }

  /** Deletes sandbox `id` with its values, shares and audit (owner only; committed ones too). @throws DomainError as `use`. */
  async discard(access: Access, id: string): Promise<void> {
    const { meta } = await this.use(access, id, "read");
    if (meta.owner !== access.user) throw new DomainError(`only the owner of sandbox "${meta.name}" (${meta.owner}) may discard it`, "permission_denied");
    await this.deps.inQueue(access.served, async () => {
      await this.deps.store.deleteSandbox(meta.id, this.event(access.served, meta.id, "discard"));
      this.held.delete(meta.id);
      if (this.kept?.held.meta.id === meta.id) this.kept = null;
    });
    this.deps.ctx.publisher?.kick();
  }

  /**
   * Writes cells in sandbox `id` as the caller (writes/write-cells.ts over the sandbox), in the
   * cube's write queue.
   * @throws DomainError as `use` (write).
   */
  async write(access: Access, id: string, writes: readonly WriteInput[], holds: readonly Int32Array[], rights: () => UserRights): Promise<{ outcomes: WriteOutcome[]; txId: string }> {
    return this.inSandbox(access, id, (ctx, copy) => writeCells(ctx, copy, writes, access.user, holds, rights()));
  }

  /** Copies a scenario in sandbox `id` (writes/copy-scenario.ts over the sandbox). @throws DomainError as `use` (write) and copyScenario. */
  async copy(access: Access, id: string, spec: ScenarioCopySpec, baseVersion: number, rights: () => UserRights): Promise<ScenarioCopyOutcome> {
    return this.inSandbox(access, id, (ctx, copy) => copyScenario(ctx, copy, spec, baseVersion, access.user, rights()));
  }

  /**
   * The transactions of sandbox `id`, newest first: the caller's, or everyone's (`user` null; the
   * sandbox's owner only).
   * @throws DomainError as `use` (read); permission_denied for everyone's when not the owner.
   */
  async transactions(access: Access, id: string, allUsers: boolean, limit: number): Promise<StoredTransaction[]> {
    const { meta, role } = await this.use(access, id, "read");
    if (allUsers && role !== "owner") throw new DomainError(`only the owner of sandbox "${meta.name}" may list every user's transactions in it`, "permission_denied");
    return this.deps.store.listSandboxTransactions(meta.id, allUsers ? null : access.user, limit);
  }

  /** The audit records of leaf `coords` in sandbox `id`, newest first. @throws DomainError as `use` (read). */
  async history(access: Access, id: string, coords: Int32Array, limit: number): Promise<StoredAuditRecord[]> {
    const { meta } = await this.use(access, id, "read");
    return this.deps.store.sandboxCellHistory(meta.id, Array.from(coords), limit);
  }

  /**
   * Undoes a transaction of sandbox `id` in the sandbox (writes/undo.ts over the sandbox), in the
   * cube's write queue: as in the base, its author or a cube admin, with Write on every leaf.
   * @throws DomainError as `use` (write) and undoTransaction.
   */
  async undo(access: Access, id: string, txId: string, onlyUnconflicted: boolean, rights: () => UserRights): Promise<UndoOutcome> {
    return this.inSandbox(access, id, (ctx, copy) => undoTransaction(ctx, copy, txId, onlyUnconflicted, access.user, rights()));
  }

  /**
   * Commits sandbox `id` to the base (writes/commit-sandbox.ts), in the cube's write queue. Owner only.
   * @param keepMine leaves (coordinates) to commit even where the base changed since.
   * @throws DomainError as `use` (owner, open) and commitSandbox.
   */
  async commit(access: Access, id: string, opts: { onlyUnconflicted: boolean; keepMine: readonly Int32Array[] }, rights: () => UserRights): Promise<SandboxCommitOutcome> {
    const { meta } = await this.use(access, id, "owner");
    const out = await this.deps.inQueue(access.served, async () => {
      const now = await this.deps.store.getSandbox(meta.id);
      if (now?.state !== "open") throw new DomainError(`sandbox "${meta.name}" was committed or discarded meanwhile`, "failed_precondition");
      const cells = await this.deps.store.sandboxCells(meta.id);
      const keep = new Set(opts.keepMine.map((c) => Array.from(c).join(",")));
      const outcome = await commitSandbox({ ...this.deps.ctx, store: this.deps.store }, access.served, meta, cells, { onlyUnconflicted: opts.onlyUnconflicted, keepMine: keep }, access.user, rights(), this.event(access.served, meta.id, "commit"));
      if (outcome.status === "APPLIED") {
        await this.reread(meta.id);
        if (this.kept?.held.meta.id === meta.id) this.kept = null;
      }
      return outcome;
    });
    return out;
  }

  /**
   * Reads sandbox `ev.sandboxId` again after another instance changed it, when this instance holds
   * it: new values reach its streams; a discarded one is dropped.
   */
  async applyChange(ev: SandboxEvent): Promise<void> {
    if (!this.held.has(ev.sandboxId)) return;
    await this.reread(ev.sandboxId).catch(() => this.held.delete(ev.sandboxId));
  }

  /**
   * Runs a step of the write pipeline (`run`: a write, a scenario copy, an undo) in sandbox `id`, in
   * the cube's write queue: over the sandbox's working copy (the kept one when it is current), with
   * the sandbox's layer as its store; then sets what it committed on the overlay. The copy, which the
   * step changed the same way, is kept when nothing else changed the base or the sandbox meanwhile.
   * @throws DomainError as `use` (write) and `stillOpen`.
   */
  private async inSandbox<T>(access: Access, id: string, run: (ctx: WriteContext, copy: ServedCube) => Promise<T>): Promise<T> {
    const { meta } = await this.use(access, id, "write");
    return this.deps.inQueue(access.served, async () => {
      const held = await this.stillOpen(meta.id, access.served);
      const { served, overlay } = held;
      const layer = new SandboxLayer(this.deps.store, meta.id, served, overlay, this.event(served, meta.id, "write"));
      const k = this.kept;
      const current = k !== null && k.held === held && k.dataVersion === served.cube.dataVersion && k.layerVersion === overlay.layerVersion;
      const copy = current ? k.copy : workingCopy(served, overlay);
      this.kept = null;
      const dataVersion = served.cube.dataVersion;
      const layerVersion = overlay.layerVersion;
      const out = await run({ ...this.deps.ctx, store: layer }, copy);
      overlay.set(layer.committed);
      // Between the step's turns other requests ran: keep the copy only if none changed the base or the sandbox.
      const untouched = served.cube.dataVersion === dataVersion && overlay.layerVersion === layerVersion + (layer.committed.length > 0 ? 1 : 0);
      if (untouched) this.kept = { held, copy, dataVersion, layerVersion: overlay.layerVersion };
      return out;
    });
  }

  /** The sandbox's outbox row for `action`. */
  private event(served: ServedCube, sandboxId: string, action: string) {
    return sandboxOutboxRow({ cube: served.cube.name, tenant: tenantOf(served), cubeId: served.id, loadedAt: served.loadedAt, sandboxId, action, instanceId: this.deps.instanceId });
  }

  /**
   * The held sandbox `id`, its record read again from the store (a commit or discard through
   * another instance may not have been heard of yet).
   * @throws DomainError failed_precondition when it is no longer open, not_found when it is gone.
   */
  private async stillOpen(id: string, served: ServedCube): Promise<Held> {
    const held = await this.hold(id, served);
    const meta = await this.deps.store.getSandbox(id);
    if (!meta) throw new DomainError(`sandbox ${id} was discarded`, "not_found");
    held.meta = meta;
    if (meta.state !== "open") throw new DomainError(`sandbox "${meta.name}" was committed; it is kept read-only for reference`, "failed_precondition");
    return held;
  }

  /** The held sandbox `id` over `served` (read from the store the first time, or again when the cube was reloaded). */
  private async hold(id: string, served: ServedCube): Promise<Held> {
    const p = this.held.get(id);
    if (p) {
      const held = await p.catch(() => null);
      if (held?.served === served) return held;
    }
    const next = (async (): Promise<Held> => {
      const meta = await this.deps.store.getSandbox(id);
      if (!meta || meta.cubeId !== served.id) throw new DomainError(`sandbox ${id} not found`, "not_found");
      const overlay = new LeafOverlay(served.cube);
      const cells = await this.deps.store.sandboxCells(id);
      overlay.set(cells.map((c) => ({ coords: c.coords, value: c.value, version: c.version })));
      return { meta, overlay, served };
    })();
    this.held.set(id, next);
    next.catch(() => {
      if (this.held.get(id) === next) this.held.delete(id);
    });
    return next;
  }

  /** Reads a held sandbox's record and cells again: newer values are set on its overlay. @throws DomainError when it is gone. */
  private async reread(id: string): Promise<StoredSandbox> {
    const meta = await this.deps.store.getSandbox(id);
    const p = this.held.get(id);
    if (!meta) {
      this.held.delete(id);
      throw new DomainError(`sandbox ${id} not found`, "not_found");
    }
    const held = p ? await p.catch(() => null) : null;
    if (held) {
      held.meta = meta;
      const cells = await this.deps.store.sandboxCells(id);
      const newer = cells.filter((c) => (held.overlay.leaf(c.coords)?.version ?? 0) < c.version);
      held.overlay.set(newer.map((c) => ({ coords: c.coords, value: c.value, version: c.version })));
    }
    return meta;
  }
}

/** The user's role on a sandbox, or null when it is neither the owner nor shared with. */
function roleOf(meta: StoredSandbox, user: string): SandboxRole | null {
  if (meta.owner === user) return "owner";
  const share = meta.shares.find((s) => s.user === user);
  return share ? (share.canWrite ? "write" : "read") : null;
}

function notFound(access: Access, id: string): DomainError {
  return new DomainError(`sandbox "${id}" not found in cube ${access.served.cube.name} (ListSandboxes lists yours and those shared with you)`, "not_found");
}
