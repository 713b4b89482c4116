// In-memory projects for select and closure tests.
import type { CandidateFile, ProjectFiles } from '../../../../src/formats/pypi/mirror/select.ts';

export function file(filename: string, extra: Partial<CandidateFile> = {}): CandidateFile {
  return {
    filename,
    url: `https://files.example/${filename}`,
    sha256: null,
    requiresPython: null,
    yanked: false,
    coreMetadataUrl: filename.endsWith('.whl') ? `https://files.example/${filename}.metadata` : null,
    ...extra,
  };
}

export function project(name: string, files: CandidateFile[]): ProjectFiles {
  return { name, files };
}

export const names = (files: readonly CandidateFile[]) => files.map((f) => f.filename);
