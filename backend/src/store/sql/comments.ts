/** Cell comments ("commentary"): add one, list a cube's. */
import type { SqlRunner } from "../driver";
import type { StoredComment } from "../types";
import { epochMs, intArrayLiteral } from "./codecs";

interface CommentRow {
  id: unknown;
  coords: number[];
  members: string[];
  body: string;
  author: string;
  created_at: unknown;
}

function toComment(row: CommentRow): StoredComment {
  return {
    id: Number(row.id),
    coords: row.coords,
    members: row.members,
    text: row.body,
    author: row.author,
    createdAt: Number(row.created_at),
  };
}

/**
 * Adds a comment on the cell at `coords` (member indexes, leaf or consolidated) of cube `cubeId`.
 * Resolves to it as stored, with its id and `createdAt` (ms).
 * @throws the database error (e.g. a foreign key violation when the cube does not exist).
 */
export async function addComment(
  db: SqlRunner,
  cubeId: number,
  coords: number[],
  members: string[],
  text: string,
  author: string,
): Promise<StoredComment> {
  const [row] = await db.query<CommentRow>(
    `INSERT INTO cell_comment (cube_id, coords, members, body, author)
     VALUES ($1, $2::int[], $3::text[], $4, $5)
     RETURNING id::text AS id, coords, members, body, author, ${epochMs("created_at")} AS created_at`,
    [cubeId, intArrayLiteral(coords, "coords"), members, text, author],
  );
  return toComment(row);
}

/** All comments of cube `cubeId`, newest first. */
export async function listComments(db: SqlRunner, cubeId: number): Promise<StoredComment[]> {
  const rows = await db.query<CommentRow>(
    `SELECT id::text AS id, coords, members, body, author, ${epochMs("created_at")} AS created_at
     FROM cell_comment WHERE cube_id = $1 ORDER BY id DESC`,
    [cubeId],
  );
  return rows.map(toComment);
}
