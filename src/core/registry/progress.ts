/** What a registry already holds of the first-hour loop (the walkthrough ticks its steps off by it). */
import { RegistryCore as Core } from './core';
import { LIVE } from './rows';

export interface RegistryProgress {
  /** A ready version exists. */
  imported: boolean;
  /** A model has a second version that came from an import (not a conversion or a clone). */
  secondVersion: boolean;
  /** Some version carries an alias (production, staging…). */
  aliased: boolean;
  /** A version was made by a converter. */
  converted: boolean;
  datasetRegistered: boolean;
  /** An evaluation finished. */
  evaluated: boolean;
}

/** One query of EXISTS probes: each stops at its first row, so it stays cheap on big registries. */
export async function progress(core: Core): Promise<RegistryProgress> {
  const ready = `${LIVE} AND v.status = 'ready'`;
  const row = await core.sql.get<Record<keyof RegistryProgress, number | boolean>>(
    `SELECT
       EXISTS (SELECT 1 FROM versions v WHERE ${ready}) AS imported,
       EXISTS (SELECT 1 FROM versions v WHERE ${ready} AND v.number >= 2 AND v.source_kind NOT IN ('conversion', 'clone')
                 AND EXISTS (SELECT 1 FROM versions w WHERE w.model_id = v.model_id AND w.id <> v.id AND w.deleted_at IS NULL AND w.status = 'ready')) AS "secondVersion",
       EXISTS (SELECT 1 FROM aliases a JOIN versions v ON v.id = a.version_id WHERE ${LIVE}) AS aliased,
       EXISTS (SELECT 1 FROM versions v WHERE ${ready} AND v.parent_kind = 'conversion') AS converted,
       EXISTS (SELECT 1 FROM datasets) AS "datasetRegistered",
       EXISTS (SELECT 1 FROM evaluations e JOIN versions v ON v.id = e.version_id WHERE ${LIVE} AND e.status = 'done') AS evaluated`,
  );
  return {
    imported: !!row?.imported,
    secondVersion: !!row?.secondVersion,
    aliased: !!row?.aliased,
    converted: !!row?.converted,
    datasetRegistered: !!row?.datasetRegistered,
    evaluated: !!row?.evaluated,
  };
}
