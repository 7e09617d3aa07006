/* curve_key.c — CURVE key files in ZeroMQ's certificate format (curve_key.h): read with the mode check a secret key
 * needs, written whole or not at all, and the fingerprint that stands for a key wherever a person reads it. */
#include "base/curve_key.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define KEYFILE_MAX 65536 /* a certificate is a few hundred bytes; anything this large is not one */

bool knoop_curve_key_valid(const char *z85)
{
    uint8_t bin[32];
    if (!z85 || strlen(z85) != KNOOP_CURVE_KEY_LEN)
        return false;
    bool ok = zmq_z85_decode(bin, z85) != NULL;
    sodium_memzero(bin, sizeof bin);
    return ok;
}

int knoop_curve_fingerprint(const char *z85, char *out)
{
    uint8_t bin[32], hash[32];
    out[0] = '\0';
    if (!z85 || strlen(z85) != KNOOP_CURVE_KEY_LEN || !zmq_z85_decode(bin, z85))
        return -EINVAL;
    crypto_generichash(hash, sizeof hash, bin, sizeof bin, NULL, 0);
    sodium_bin2hex(out, KNOOP_CURVE_FINGERPRINT_LEN + 1, hash, KNOOP_CURVE_FINGERPRINT_LEN / 2);
    return 0;
}

/* ---- reading ------------------------------------------------------------------------------------------------ */

/* One "name = value" line: value without its quotes into out (at most outlen - 1 bytes); false for other lines. */
static bool take_value(const char *line, const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name);
    if (strncmp(line, name, n) != 0)
        return false;
    const char *p = line + n;
    p += strspn(p, " \t");
    if (*p != '=')
        return false;
    p++;
    p += strspn(p, " \t");
    char quote = (*p == '"' || *p == '\'') ? *p++ : '\0';
    size_t len = quote ? strcspn(p, quote == '"' ? "\"" : "'") : strcspn(p, " \t\r\n");
    if (len >= outlen)
        len = outlen - 1;
    memcpy(out, p, len);
    out[len] = '\0';
    return true;
}

static void parse(char *text, knoop_curve_keyfile_t *out)
{
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        line += strspn(line, " \t");
        if (*line == '#')
            continue;
        if (!take_value(line, "public-key", out->public_key, sizeof out->public_key) &&
            !take_value(line, "secret-key", out->secret_key, sizeof out->secret_key) &&
            !take_value(line, "party", out->party, sizeof out->party))
            take_value(line, "added", out->added, sizeof out->added);
    }
}

static int fail(char *err, size_t errlen, int rc, const char *path, const char *fmt, const char *detail)
{
    char what[256];
    snprintf(what, sizeof what, fmt, detail);
    snprintf(err, errlen, "%s: %s", path, what);
    return rc;
}

int knoop_curve_keyfile_read(const char *path, bool with_secret, knoop_curve_keyfile_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (sodium_init() < 0) /* idempotent; sodium_malloc below needs it */
        return fail(err, errlen, -EIO, path, "%s", "libsodium failed to initialise");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, -errno, path, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return fail(err, errlen, -e, path, "cannot stat: %s", strerror(e));
    }
    if (!S_ISREG(st.st_mode) || st.st_size > KEYFILE_MAX) {
        close(fd);
        return fail(err, errlen, -EINVAL, path, "%s", "not a key file (a regular file of at most 64 KiB)");
    }
    if (with_secret && (st.st_mode & 077)) {
        char mode[64];
        snprintf(mode, sizeof mode, "%04o", (unsigned)(st.st_mode & 07777));
        close(fd);
        return fail(err, errlen, -EACCES, path,
                    "mode %s lets others read the secret key: make it readable by its owner only (chmod 600)", mode);
    }
    char *text = sodium_malloc(KEYFILE_MAX + 1); /* guarded, and wiped when freed: it may hold a secret key */
    if (!text) {
        close(fd);
        return fail(err, errlen, -ENOMEM, path, "%s", "out of memory");
    }
    size_t len = 0;
    ssize_t got;
    while (len < KEYFILE_MAX && (got = read(fd, text + len, KEYFILE_MAX - len)) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            close(fd);
            sodium_free(text);
            return fail(err, errlen, -e, path, "cannot read: %s", strerror(e));
        }
        len += (size_t)got;
    }
    close(fd);
    text[len] = '\0';
    parse(text, out);
    sodium_free(text);
    if (!knoop_curve_key_valid(out->public_key))
        return fail(err, errlen, -EINVAL, path, "%s", "no valid public-key (40 characters of Z85)");
    out->had_secret = out->secret_key[0] != '\0';
    if (!with_secret) {
        sodium_memzero(out->secret_key, sizeof out->secret_key); /* not asked for: not kept */
        return 0;
    }
    if (!knoop_curve_key_valid(out->secret_key)) {
        sodium_memzero(out->secret_key, sizeof out->secret_key);
        return fail(err, errlen, -EINVAL, path, "%s", "no valid secret-key (40 characters of Z85)");
    }
    char derived[KNOOP_CURVE_KEY_LEN + 1];
    if (zmq_curve_public(derived, out->secret_key) != 0 || strcmp(derived, out->public_key) != 0) {
        sodium_memzero(out->secret_key, sizeof out->secret_key);
        return fail(err, errlen, -EINVAL, path, "%s", "its public-key is not the one of its secret-key");
    }
    return 0;
}

/* ---- writing ------------------------------------------------------------------------------------------------ */

static int write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int knoop_curve_keyfile_write(const char *path, mode_t mode, bool replace, const char *comment,
                              const knoop_curve_keyfile_t *k, char *err, size_t errlen)
{
    char fp[KNOOP_CURVE_FINGERPRINT_LEN + 1];
    if (knoop_curve_fingerprint(k->public_key, fp) != 0)
        return fail(err, errlen, -EINVAL, path, "%s", "not a public key (40 characters of Z85)");
    if (sodium_init() < 0)
        return fail(err, errlen, -EIO, path, "%s", "libsodium failed to initialise");
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s%s", path, replace ? ".tmp" : "") >= (int)sizeof tmp)
        return fail(err, errlen, -ENAMETOOLONG, path, "%s", "path too long");
    if (replace)
        unlink(tmp); /* left by a write that failed half-way */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return fail(err, errlen, -errno, path, "cannot create: %s", strerror(errno));
    char *text = sodium_malloc(1024);
    int rc = text ? 0 : -ENOMEM;
    if (rc == 0) {
        int n = snprintf(text, 1024, "#   %s\n#   fingerprint: %s\nmetadata\n", comment, fp);
        if (k->party[0])
            n += snprintf(text + n, 1024 - (size_t)n, "    party = \"%s\"\n", k->party);
        if (k->added[0])
            n += snprintf(text + n, 1024 - (size_t)n, "    added = \"%s\"\n", k->added);
        n += snprintf(text + n, 1024 - (size_t)n, "curve\n    public-key = \"%s\"\n", k->public_key);
        if (k->secret_key[0])
            n += snprintf(text + n, 1024 - (size_t)n, "    secret-key = \"%s\"\n", k->secret_key);
        rc = fchmod(fd, mode) != 0 ? -errno : write_all(fd, text, (size_t)n);
        sodium_free(text);
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && replace && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0) {
        unlink(tmp);
        return fail(err, errlen, rc, path, "cannot write: %s", strerror(-rc));
    }
    return 0;
}

int knoop_curve_keypair_generate(const char *base, char *public_key, char *err, size_t errlen)
{
    char secret_path[PATH_MAX], public_path[PATH_MAX];
    if (snprintf(secret_path, sizeof secret_path, "%s.key", base) >= (int)sizeof secret_path ||
        snprintf(public_path, sizeof public_path, "%s.pub", base) >= (int)sizeof public_path)
        return fail(err, errlen, -ENAMETOOLONG, base, "%s", "path too long");
    if (sodium_init() < 0)
        return fail(err, errlen, -EIO, base, "%s", "libsodium failed to initialise");
    knoop_curve_keyfile_t *k = sodium_malloc(sizeof *k);
    if (!k)
        return fail(err, errlen, -ENOMEM, base, "%s", "out of memory");
    memset(k, 0, sizeof *k);
    int rc = zmq_curve_keypair(k->public_key, k->secret_key) == 0 ? 0 : -ENOTSUP;
    if (rc != 0)
        fail(err, errlen, rc, base, "%s", "ZeroMQ was built without CURVE");
    if (rc == 0)
        rc = knoop_curve_keyfile_write(secret_path, 0600, false,
                                       "knoop CURVE secret key: keep it secret, readable by its owner only", k, err,
                                       errlen);
    if (rc == 0) {
        sodium_memzero(k->secret_key, sizeof k->secret_key);
        rc = knoop_curve_keyfile_write(public_path, 0644, false, "knoop CURVE public key", k, err, errlen);
        if (rc != 0)
            unlink(secret_path); /* a pair or nothing */
    }
    if (rc == 0)
        snprintf(public_key, KNOOP_CURVE_KEY_LEN + 1, "%s", k->public_key);
    sodium_free(k);
    return rc;
}

/* ---- the client tools' options --------------------------------------------------------------------------------- */

int knoop_curve_client_keys(const char *server_key_file, const char *key_file, const char *key_dir, const char *party,
                            knoop_curve_client_keys_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!server_key_file && !key_file && !key_dir)
        return 0;
    if (!server_key_file || (!key_file && !key_dir)) {
        snprintf(err, errlen, "CURVE needs both --server-key FILE and --key FILE (or --key-dir DIR)");
        return -EINVAL;
    }
    knoop_curve_keyfile_t k;
    int rc = knoop_curve_keyfile_read(server_key_file, false, &k, err, errlen);
    if (rc != 0)
        return rc;
    memcpy(out->server_public, k.public_key, sizeof out->server_public);
    char path[PATH_MAX];
    if (!key_file) {
        if (snprintf(path, sizeof path, "%s/%s.key", key_dir, party) >= (int)sizeof path) {
            snprintf(err, errlen, "%s: path too long", key_dir);
            return -ENAMETOOLONG;
        }
        key_file = path;
    }
    if ((rc = knoop_curve_keyfile_read(key_file, true, &k, err, errlen)) != 0)
        return rc;
    memcpy(out->public_key, k.public_key, sizeof out->public_key);
    memcpy(out->secret_key, k.secret_key, sizeof out->secret_key);
    sodium_memzero(&k, sizeof k);
    out->enabled = true;
    return 0;
}
