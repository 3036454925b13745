-- Bulk loads: the foreign key from cell to cube cost a row-level trigger (a lookup in cube) per
-- loaded cell, about two thirds of a COPY's time. Cells are written only by saveCube (in the
-- transaction that creates their cube) and commitWrites (which locks its cube row FOR KEY SHARE
-- first), and saveCube deletes a replaced cube's cells itself, so the constraint adds nothing.
ALTER TABLE cell DROP CONSTRAINT IF EXISTS cell_cube_id_fkey;
