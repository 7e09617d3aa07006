/* clients.c — the client key directory (clients.h): load it whole, look a key up, add and remove one file. The
 * entries are kept sorted (party, fingerprint) for listings; a map from key to entry serves the ZAP handler. */
#include "config/clients.h"
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "base/codes.h"
#include "base/fsutil.h"
#include "base/strmap.h"

struct knoop_clients {
    char *dir;                 /* owned */
    knoop_client_key_t **keys; /* owned array of owned entries, sorted */
    size_t n, cap;
    knoop_strmap_t *by_key; /* public key -> entry (borrowed) */
};

static int cmp_keys(const void *a, const void *b)
{
    const knoop_client_key_t *x = *(knoop_client_key_t *const *)a, *y = *(knoop_client_key_t *const *)b;
    int c = strcmp(x->party, y->party);
    return c ? c : strcmp(x->fingerprint, y->fingerprint);
}

static int insert(knoop_clients_t *c, knoop_client_key_t *k)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        knoop_client_key_t **bigger = realloc(c->keys, cap * sizeof *bigger);
        if (!bigger)
            return -ENOMEM;
        c->keys = bigger;
        c->cap = cap;
    }
    if (knoop_strmap_put(c->by_key, k->public_key, k) != 0)
        return -ENOMEM;
    c->keys[c->n++] = k;
    qsort(c->keys, c->n, sizeof *c->keys, cmp_keys);
    return 0;
}

static void iso_utc(time_t t, char *out, size_t len)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, len, "?");
}

static bool is_key_file(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".pub") == 0;
}

/* One file of the directory into a new entry; NULL with err set. */
static knoop_client_key_t *read_entry(const char *dir, const char *name, char *err, size_t errlen)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path || strlen(name) >= 256) {
        snprintf(err, errlen, "%s/%s: path too long", dir, name);
        return NULL;
    }
    knoop_curve_keyfile_t f;
    if (knoop_curve_keyfile_read(path, false, &f, err, errlen) != 0)
        return NULL;
    if (f.had_secret) {
        snprintf(err, errlen,
                 "%s: holds a secret key: a client's secret key stays with the client; put only its public key here",
                 path);
        return NULL;
    }
    if (!knoop_code_is_party(f.party)) {
        snprintf(err, errlen, "%s: metadata party = \"%s\" is not a party code (CBS or UZOVI: 4 digits, AGB: 8)", path,
                 f.party);
        return NULL;
    }
    knoop_client_key_t *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    snprintf(k->party, sizeof k->party, "%s", f.party);
    memcpy(k->public_key, f.public_key, sizeof k->public_key);
    knoop_curve_fingerprint(k->public_key, k->fingerprint);
    snprintf(k->file, sizeof k->file, "%s", name);
    struct stat st;
    if (f.added[0])
        snprintf(k->added, sizeof k->added, "%s", f.added);
    else if (stat(path, &st) == 0)
        iso_utc(st.st_mtime, k->added, sizeof k->added);
    return k;
}

int knoop_clients_load(const char *dir, bool create, knoop_clients_t **out, char *err, size_t errlen)
{
    *out = NULL;
    knoop_clients_t *c = calloc(1, sizeof *c);
    if (!c || !(c->dir = strdup(dir)) || !(c->by_key = knoop_strmap_new())) {
        knoop_clients_destroy(&c);
        snprintf(err, errlen, "clients_dir %s: out of memory", dir);
        return -ENOMEM;
    }
    int rc;
    if (create && (rc = knoop_mkdir_p(dir, 0700)) != 0) {
        snprintf(err, errlen, "clients_dir %s: cannot create: %s", dir, strerror(-rc));
        knoop_clients_destroy(&c);
        return rc;
    }
    DIR *d = opendir(dir);
    if (!d && errno == ENOENT && !create) {
        *out = c; /* nothing added yet */
        return 0;
    }
    if (!d) {
        rc = -errno;
        snprintf(err, errlen, "clients_dir %s: cannot read: %s", dir, strerror(errno));
        knoop_clients_destroy(&c);
        return rc;
    }
    rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (!is_key_file(e->d_name))
            continue;
        knoop_client_key_t *k = read_entry(dir, e->d_name, err, errlen);
        const knoop_client_key_t *twice = k ? knoop_strmap_get(c->by_key, k->public_key) : NULL;
        if (!k) {
            rc = -EINVAL;
        } else if (twice) {
            snprintf(err, errlen, "%s/%s: the same key as %s (party %s): a key belongs to one party, in one file", dir,
                     e->d_name, twice->file, twice->party);
            rc = -EINVAL;
        } else if (insert(c, k) != 0) {
            snprintf(err, errlen, "clients_dir %s: out of memory", dir);
            rc = -ENOMEM;
        }
        if (rc != 0)
            free(k);
    }
    closedir(d);
    if (rc != 0) {
        knoop_clients_destroy(&c);
        return rc;
    }
    *out = c;
    return 0;
}

void knoop_clients_destroy(knoop_clients_t **cp)
{
    if (!cp || !*cp)
        return;
    knoop_clients_t *c = *cp;
    for (size_t i = 0; i < c->n; i++)
        free(c->keys[i]);
    free(c->keys);
    knoop_strmap_destroy(&c->by_key);
    free(c->dir);
    free(c);
    *cp = NULL;
}

size_t knoop_clients_count(const knoop_clients_t *c)
{
    return c ? c->n : 0;
}

const knoop_client_key_t *knoop_clients_at(const knoop_clients_t *c, size_t i)
{
    return c && i < c->n ? c->keys[i] : NULL;
}

const knoop_client_key_t *knoop_clients_find(const knoop_clients_t *c, const char *public_key)
{
    return c && public_key ? knoop_strmap_get(c->by_key, public_key) : NULL;
}

int knoop_clients_add(knoop_clients_t *c, const char *party, const char *public_key, char *err, size_t errlen)
{
    if (!knoop_code_is_party(party))
        return snprintf(err, errlen, "'%.32s' is not a party code (CBS or UZOVI: 4 digits, AGB: 8 digits)", party),
               -EINVAL;
    if (!knoop_curve_key_valid(public_key))
        return snprintf(err, errlen, "not a CURVE public key (40 characters of Z85, as knoopctl keys generate prints)"),
               -EINVAL;
    const knoop_client_key_t *have = knoop_clients_find(c, public_key);
    if (have)
        return snprintf(err, errlen, "key %s is already a client key of party %s", have->fingerprint, have->party),
               -EEXIST;
    knoop_client_key_t *k = calloc(1, sizeof *k);
    if (!k)
        return snprintf(err, errlen, "out of memory"), -ENOMEM;
    snprintf(k->party, sizeof k->party, "%s", party);
    memcpy(k->public_key, public_key, sizeof k->public_key);
    knoop_curve_fingerprint(public_key, k->fingerprint);
    iso_utc(time(NULL), k->added, sizeof k->added);
    snprintf(k->file, sizeof k->file, "%s-%s.pub", party, k->fingerprint);
    knoop_curve_keyfile_t f = {0};
    memcpy(f.public_key, k->public_key, sizeof f.public_key);
    memcpy(f.party, k->party, sizeof f.party);
    memcpy(f.added, k->added, sizeof f.added);
    char path[PATH_MAX], comment[96];
    snprintf(path, sizeof path, "%s/%s", c->dir, k->file);
    snprintf(comment, sizeof comment, "knoop client key of party %s (knoopctl clients add)", party);
    int rc = knoop_mkdir_p(c->dir, 0700);
    if (rc != 0) {
        snprintf(err, errlen, "clients_dir %s: cannot create: %s", c->dir, strerror(-rc));
    } else if ((rc = knoop_curve_keyfile_write(path, 0644, true, comment, &f, err, errlen)) == 0 &&
               (rc = insert(c, k)) != 0) {
        unlink(path);
        snprintf(err, errlen, "out of memory");
    }
    if (rc != 0)
        free(k);
    return rc;
}

int knoop_clients_remove(knoop_clients_t *c, const char *public_key, char *err, size_t errlen)
{
    knoop_client_key_t *k = (knoop_client_key_t *)knoop_clients_find(c, public_key);
    if (!k)
        return snprintf(err, errlen, "not a client key"), -ENOENT;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", c->dir, k->file);
    if (unlink(path) != 0 && errno != ENOENT) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot remove: %s (the key stays authorised)", path, strerror(e));
        return -e;
    }
    knoop_strmap_remove(c->by_key, public_key);
    size_t i = 0;
    while (c->keys[i] != k)
        i++;
    memmove(&c->keys[i], &c->keys[i + 1], (c->n - i - 1) * sizeof *c->keys);
    c->n--;
    free(k);
    return 0;
}
