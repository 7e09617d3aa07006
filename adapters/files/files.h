/* files.h — the file-exchange adapter's building blocks (docs/file-exchange.md): telling which iWmo/iJw message a
 * dropped file holds, and the durable file operations (atomic write, move without overwriting) knoop-files needs. */
#ifndef KNOOP_FILES_H
#define KNOOP_FILES_H
#include <stddef.h>

/* Reads the root element of an XML document without expanding anything: returns 0 and the envelope's content
 * type ("application/xml; iwmo-3.2; WMO301") and message type ("WMO301") when the root is an iWmo 3.2 / iJw 3.2
 * Bericht; else -EINVAL (not XML, DOCTYPE, not an iWmo/iJw message) with a reason in `why`. */
int knoop_files_detect(const char *buf, size_t len, char *ct, size_t ctlen, char *type, size_t typelen, char *why,
                       size_t whylen);

/* True for names the adapter must leave alone in an inbox: hidden (".x"), unfinished ("x.tmp", "x.part"). */
int knoop_files_ignored_name(const char *name);

/* Writes data to dir/name atomically and durably: dir/.name.tmp, fsync, rename, fsync dir. 0 or -errno. */
int knoop_files_write_atomic(const char *dir, const char *name, const void *data, size_t len);

/* Moves from_dir/name into to_dir under the same name, or name.N.ext when that is taken; fsyncs both dirs.
 * The chosen name goes to final (may be NULL). 0 or -errno. */
int knoop_files_move(const char *from_dir, const char *name, const char *to_dir, char *final, size_t finallen);

/* The name a file would get in to_dir (name, or name.N.ext when taken) without moving it. 0 or -errno. */
int knoop_files_free_name(const char *to_dir, const char *name, char *out, size_t outlen);

/* fsync of a directory, so a rename in it is durable. 0 or -errno. */
int knoop_files_sync_dir(const char *dir);

/* mkdir -p for dir (mode 0750). 0 or -errno. */
int knoop_files_mkdirs(const char *dir);

/* The outbox name of a delivery: <seq>-<message_type>-<identificatie>.<ext>, characters outside [A-Za-z0-9_-]
 * replaced by '_', the extension from the content type (xml, json, txt, bin). */
void knoop_files_outbox_name(unsigned long long seq, const char *message_type, const char *identificatie,
                             const char *content_type, char *out, size_t outlen);
#endif
