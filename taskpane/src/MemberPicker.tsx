import { Button, Caption1, Field, Input, Select, Text, makeStyles, tokens } from "@fluentui/react-components";
import { useVirtualizer } from "@tanstack/react-virtual";
import { type KeyboardEvent, useCallback, useEffect, useId, useMemo, useRef, useState } from "react";
import type { QatomApi } from "../../addin/src/contracts";
import { insertInOrder, type ReportContext, type ReportMember } from "../../addin/src/reports/report";
import { type DimensionInfo, type MemberInfo, MemberRelation } from "../../proto/gen/quantatom/v1/lattice_pb";
import { errorMessage } from "./hooks";

/** Height of one row of the list, px (the virtualizer places rows by it). */
const ROW_PX = 28;
/** Rows the list shows at once. */
const VISIBLE_ROWS = 9;
/** Most members a search lists; a level lists all of its (up to GetMembers's limit). */
const SEARCH_LIMIT = 200;
const LEVEL_LIMIT = 100_000;

const useStyles = makeStyles({
  root: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS },
  tools: { display: "flex", gap: tokens.spacingHorizontalS, alignItems: "flex-end" },
  grow: { flexGrow: 1, minWidth: 0 },
  input: { minWidth: 0, width: "100%" },
  list: {
    height: `${ROW_PX * VISIBLE_ROWS}px`,
    overflowY: "auto",
    position: "relative",
    border: `1px solid ${tokens.colorNeutralStroke1}`,
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: tokens.colorNeutralBackground1,
    "&:focus-visible": { outline: `2px solid ${tokens.colorStrokeFocus2}` },
  },
  row: {
    position: "absolute",
    left: 0,
    right: 0,
    height: `${ROW_PX}px`,
    display: "flex",
    alignItems: "center",
    gap: "4px",
    paddingRight: tokens.spacingHorizontalS,
    whiteSpace: "nowrap",
    overflow: "hidden",
    cursor: "default",
  },
  active: { backgroundColor: tokens.colorNeutralBackground1Hover, outline: `1px solid ${tokens.colorStrokeFocus2}`, outlineOffset: "-1px" },
  selected: { backgroundColor: tokens.colorBrandBackground2 },
  caret: { width: "14px", flexShrink: 0, textAlign: "center", color: tokens.colorNeutralForeground3 },
  check: { width: "14px", flexShrink: 0 },
  label: { overflow: "hidden", textOverflow: "ellipsis" },
  count: { color: tokens.colorNeutralForeground3, flexShrink: 0 },
  path: { color: tokens.colorNeutralForeground3, overflow: "hidden", textOverflow: "ellipsis" },
  muted: { color: tokens.colorNeutralForeground3, overflowWrap: "anywhere" },
});

/** A member as a report keeps it (what GetMembers says of it that a report needs). */
export function reportMemberOf(m: { uniqueName: string; caption: string; depth: number; isLeaf: boolean }): ReportMember {
  return { uniqueName: m.uniqueName, caption: m.caption, depth: m.depth, isLeaf: m.isLeaf };
}

/** A member as the picker keeps it (caption: the name when there is none), with its parent, child count and level. */
export function memberNode(m: MemberInfo): ReportMember & { parent: string; childCount: number; level: string } {
  return { ...reportMemberOf({ ...m, caption: m.caption || m.name }), parent: m.parentUniqueName, childCount: m.childCount, level: m.level };
}

type Node = ReturnType<typeof memberNode>;

/** One row of the list: a member, its depth in the tree as shown, and (searches) its path. */
interface Row {
  member: Node;
  indent: number;
  path?: string;
}

/** What the list shows: the tree, one level, or a search's matches. */
type View = { kind: "tree" } | { kind: "level"; level: string } | { kind: "search"; query: string };

/** `[Customers].[USA].[CA].[Altadena]` -> `USA › CA › Altadena` (the path above a search match). */
function pathOf(uniqueName: string): string {
  const parts = uniqueName.slice(1, -1).split("].[");
  return parts.slice(1, -1).join(" › ");
}

/**
 * The member picker: a dimension's hierarchy as a tree that loads children on demand
 * (GetMembers CHILDREN), a search by name with each match's path (SEARCH), and a level's members
 * (DESCENDANTS to that level) with "Select all" — all Store Cities — and "Select leaves" below the
 * active member (the leaves of Q1). Each member shows its count of children. The list is
 * virtualized (@tanstack/react-virtual): only the rows in view are in the DOM, so a level of
 * 10,000 customers scrolls as fast as one of ten.
 *
 * Keyboard (WAI-ARIA tree pattern, focus on the list, the active row by `aria-activedescendant`):
 * Up/Down, Home/End, PageUp/PageDown move; Right opens a member (then goes to its first child);
 * Left closes it (or goes to its parent); Space or Enter selects or unselects (in single mode,
 * selects only it).
 * @see https://www.w3.org/WAI/ARIA/apg/patterns/treeview/
 */
export function MemberPicker({
  clients,
  cube,
  dimension,
  selected,
  onChange,
  single = false,
  label,
}: {
  clients: QatomApi;
  cube: string;
  dimension: DimensionInfo;
  /** The members chosen, in order. */
  selected: readonly ReportMember[];
  onChange(next: ReportMember[]): void;
  /** One member only (a context): selecting replaces. */
  single?: boolean;
  /** The list's accessible name, e.g. `Store members`. */
  label: string;
}) {
  const styles = useStyles();
  const listId = useId();
  const [view, setView] = useState<View>({ kind: "tree" });
  const [query, setQuery] = useState("");
  const [roots, setRoots] = useState<Node[] | null>(null);
  const [children, setChildren] = useState<ReadonlyMap<string, Node[]>>(new Map());
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  // A level's or a search's rows, with the view they answer (a view not answered yet shows none).
  const [listed, setListed] = useState<{ view: View; rows: Row[]; truncated: boolean } | null>(null);
  const [active, setActive] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const scrollRef = useRef<HTMLDivElement>(null);

  const members = useCallback(
    async (relation: MemberRelation, extra: { parent?: string; depth?: number; query?: string; limit?: number }) => {
      const res = await clients.lattice.getMembers({ cube, dimension: dimension.name, relation, parent: extra.parent ?? "", depth: extra.depth ?? 0, query: extra.query ?? "", limit: extra.limit ?? 1000 });
      return { members: res.members.map(memberNode), truncated: res.truncated };
    },
    [clients, cube, dimension.name],
  );

  useEffect(() => {
    let live = true;
    members(MemberRelation.CHILDREN, {})
      .then((r) => live && setRoots(r.members))
      .catch((err) => live && setError(errorMessage(err)));
    return () => {
      live = false;
    };
  }, [members]);

  // A level or a search: read once per view.
  useEffect(() => {
    if (view.kind === "tree") return;
    let live = true;
    const depth = view.kind === "level" ? dimension.levels.indexOf(view.level) : -1;
    const read =
      view.kind === "level" ? members(MemberRelation.DESCENDANTS, { depth: depth + 1, limit: LEVEL_LIMIT }) : members(MemberRelation.SEARCH, { query: view.query, limit: SEARCH_LIMIT });
    read
      .then((r) => {
        if (!live) return;
        const list = view.kind === "level" ? r.members.filter((m) => m.level === view.level) : r.members;
        setListed({ view, rows: list.map((m) => ({ member: m, indent: 0, path: view.kind === "search" ? pathOf(m.uniqueName) : undefined })), truncated: r.truncated });
        setActive(0);
        setError(null);
      })
      .catch((err) => live && setError(errorMessage(err)));
    return () => {
      live = false;
    };
  }, [view, members, dimension.levels]);

  // Flat (a level or a search) or the tree; while a flat view is read, it lists nothing.
  const flat = view.kind === "tree" ? null : listed?.view === view ? listed.rows : [];
  const busy = view.kind !== "tree" && listed?.view !== view;
  const truncated = !busy && view.kind !== "tree" && (listed?.truncated ?? false);
  const rows: Row[] = useMemo(() => {
    if (flat) return flat;
    const out: Row[] = [];
    const walk = (list: readonly Node[], indent: number) => {
      for (const m of list) {
        out.push({ member: m, indent });
        if (open.has(m.uniqueName)) walk(children.get(m.uniqueName) ?? [], indent + 1);
      }
    };
    walk(roots ?? [], 0);
    return out;
  }, [flat, roots, children, open]);

  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => scrollRef.current, estimateSize: () => ROW_PX, overscan: 4 });
  const chosen = useMemo(() => new Set(selected.map((m) => m.uniqueName)), [selected]);

  const moveTo = (i: number) => {
    if (rows.length === 0) return;
    const at = Math.max(0, Math.min(rows.length - 1, i));
    setActive(at);
    virtualizer.scrollToIndex(at);
  };

  const toggle = (m: Node) => {
    const plain = reportMemberOf(m);
    if (single) onChange([plain]);
    else onChange(chosen.has(m.uniqueName) ? selected.filter((s) => s.uniqueName !== m.uniqueName) : insertInOrder(selected, plain));
  };

  const expand = async (m: Node) => {
    if (m.isLeaf || m.childCount === 0) return;
    if (!children.has(m.uniqueName)) {
      try {
        const r = await members(MemberRelation.CHILDREN, { parent: m.uniqueName, limit: LEVEL_LIMIT });
        setChildren((c) => new Map(c).set(m.uniqueName, r.members));
      } catch (err) {
        setError(errorMessage(err));
        return;
      }
    }
    setOpen((o) => new Set(o).add(m.uniqueName));
  };

  const collapse = (m: Node) =>
    setOpen((o) => {
      const next = new Set(o);
      next.delete(m.uniqueName);
      return next;
    });

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const row = rows[active];
    const page = VISIBLE_ROWS - 1;
    let handled = true;
    switch (e.key) {
      case "ArrowDown":
        moveTo(active + 1);
        break;
      case "ArrowUp":
        moveTo(active - 1);
        break;
      case "Home":
        moveTo(0);
        break;
      case "End":
        moveTo(rows.length - 1);
        break;
      case "PageDown":
        moveTo(active + page);
        break;
      case "PageUp":
        moveTo(active - page);
        break;
      case "ArrowRight":
        if (row && !flat) {
          if (open.has(row.member.uniqueName)) moveTo(active + 1);
          else void expand(row.member);
        }
        break;
      case "ArrowLeft":
        if (row && !flat) {
          if (open.has(row.member.uniqueName)) collapse(row.member);
          else {
            const parent = rows.findIndex((r) => r.member.uniqueName === row.member.parent);
            if (parent >= 0) moveTo(parent);
          }
        }
        break;
      case " ":
      case "Enter":
        if (row) toggle(row.member);
        break;
      default:
        handled = false;
    }
    if (handled) e.preventDefault();
  };

  const addAll = (add: readonly Node[]) => {
    const plain = add.map(reportMemberOf);
    // Listed in hierarchy order already: placed one by one only among an earlier selection.
    onChange(selected.length === 0 ? plain : plain.reduce<ReportMember[]>((s, m) => insertInOrder(s, m), [...selected]));
  };
  const selectAll = () => addAll(rows.map((r) => r.member));

  const selectLeaves = async () => {
    const row = rows[active];
    if (!row) return;
    try {
      const r = row.member.isLeaf ? { members: [row.member] } : await members(MemberRelation.DESCENDANTS, { parent: row.member.uniqueName, limit: LEVEL_LIMIT });
      addAll(r.members.filter((m) => m.isLeaf));
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  const activeRow = rows[active];
  const rowId = (i: number) => `${listId}-r${i}`;

  return (
    <div className={styles.root}>
      <div className={styles.tools}>
        <Field label={`Search ${dimension.name}`} className={styles.grow}>
          <Input
            className={styles.input}
            value={query}
            onChange={(_, d) => setQuery(d.value)}
            onKeyDown={(e) => {
              if (e.key !== "Enter") return;
              e.preventDefault();
              setView(query.trim() ? { kind: "search", query: query.trim() } : { kind: "tree" });
            }}
          />
        </Field>
        <Field label="Show">
          <Select
            value={view.kind === "level" ? view.level : ""}
            onChange={(_, d) => {
              setQuery("");
              setView(d.value ? { kind: "level", level: d.value } : { kind: "tree" });
            }}
          >
            <option value="">Hierarchy</option>
            {dimension.levels.map((l) => (
              <option key={l} value={l}>
                Level: {l}
              </option>
            ))}
          </Select>
        </Field>
      </div>
      <Caption1 className={styles.muted}>
        {view.kind === "search" ? `Matches for "${view.query}"` : view.kind === "level" ? `Level ${view.level}` : `${dimension.name}`}: {busy ? "loading…" : `${rows.length.toLocaleString("en-US")} shown`}
        {truncated ? " (more not shown: narrow the search)" : ""}
        {` · ${dimension.memberCount.toLocaleString("en-US")} members, ${dimension.leafCount.toLocaleString("en-US")} leaves in all`}
      </Caption1>
      <div
        ref={scrollRef}
        role="tree"
        aria-label={label}
        aria-multiselectable={!single}
        aria-activedescendant={activeRow ? rowId(active) : undefined}
        tabIndex={0}
        className={styles.list}
        onKeyDown={onKeyDown}
      >
        <div style={{ height: `${virtualizer.getTotalSize()}px`, position: "relative" }}>
          {virtualizer.getVirtualItems().map((v) => {
            const r = rows[v.index];
            const m = r.member;
            const isOpen = open.has(m.uniqueName);
            const isChosen = chosen.has(m.uniqueName);
            return (
              // biome-ignore lint/a11y/useFocusableInteractive: the tree holds the focus (aria-activedescendant)
              // biome-ignore lint/a11y/useKeyWithClickEvents: the tree's keys select (Space, Enter)
              <div
                key={m.uniqueName}
                id={rowId(v.index)}
                role="treeitem"
                aria-level={r.indent + 1}
                aria-selected={isChosen}
                aria-expanded={flat || m.isLeaf ? undefined : isOpen}
                title={m.uniqueName}
                className={`${styles.row} ${isChosen ? styles.selected : ""} ${v.index === active ? styles.active : ""}`}
                style={{ top: `${v.start}px`, paddingLeft: `${4 + r.indent * 14}px` }}
                onClick={() => {
                  setActive(v.index);
                  toggle(m);
                }}
              >
                <span
                  className={styles.caret}
                  aria-hidden="true"
                  onClick={(e) => {
                    e.stopPropagation();
                    if (isOpen) collapse(m);
                    else void expand(m);
                  }}
                >
                  {flat || m.isLeaf ? "" : isOpen ? "▾" : "▸"}
                </span>
                <span className={styles.check} aria-hidden="true">
                  {isChosen ? "✓" : ""}
                </span>
                <Text className={styles.label}>{m.caption}</Text>
                {!m.isLeaf && <span className={styles.count}>({m.childCount.toLocaleString("en-US")})</span>}
                {r.path && <span className={styles.path}>{r.path}</span>}
              </div>
            );
          })}
        </div>
      </div>
      <div className={styles.tools}>
        {!single && view.kind !== "tree" && (
          <Button size="small" onClick={selectAll} disabled={rows.length === 0}>
            Select all {rows.length.toLocaleString("en-US")}
          </Button>
        )}
        {!single && (
          <Button size="small" onClick={() => void selectLeaves()} disabled={!activeRow}>
            Select leaves below {activeRow ? activeRow.member.caption : ""}
          </Button>
        )}
        {!single && (
          <Button size="small" onClick={() => onChange([])} disabled={selected.length === 0}>
            Clear
          </Button>
        )}
      </div>
      <Caption1 className={styles.muted} aria-live="polite">
        {selected.length === 0 ? "Nothing selected." : `Selected (${selected.length.toLocaleString("en-US")}): ${selected.slice(0, 8).map((m) => m.caption).join(", ")}${selected.length > 8 ? ", …" : ""}`}
      </Caption1>
      {error && <Text className={styles.muted}>{error}</Text>}
    </div>
  );
}

/** The picker for one context member (a dimension on neither axis of a report): picking another calls `onPick`. */
export function ContextPicker({ clients, cube, dimension, context, onPick }: { clients: QatomApi; cube: string; dimension: DimensionInfo; context: ReportContext; onPick(m: ReportMember): void }) {
  return (
    <MemberPicker
      clients={clients}
      cube={cube}
      dimension={dimension}
      single
      selected={context.member ? [{ uniqueName: context.member, caption: context.caption, depth: 0, isLeaf: false }] : []}
      onChange={([m]) => m && m.uniqueName !== context.member && onPick(m)}
      label={`${dimension.name} member`}
    />
  );
}
