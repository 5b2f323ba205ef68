/**
 * `Authorization: Bearer <token>`: HTTP scheme names are case-insensitive, so
 * `bearer` and `BEARER` are read as well.
 */

/** The token of a Bearer header ('' when it names none); null without one (no header, another scheme). */
export function bearerToken(header: string | undefined): string | null {
  const m = header === undefined ? null : /^bearer(?:\s+(.*))?$/i.exec(header.trim());
  return m ? (m[1] ?? '').trim() : null;
}
