/* main.c — knoopd's command line: run (-c FILE, or the embedded demo network), check a configuration (-t) or print
 * the settings reference (--settings-markdown). Running is lifecycle.c's start-up, then the loop until the stop. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>
#include "app/lifecycle.h"
#include "app/metrics_table.h"
#include "core/auth.h"
#include "core/broker.h"
#include "config/config.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "config/network.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: knoopd [-c FILE] [-t]\n"
                 "  -c FILE   configuration file (default: the embedded demo network, data in ./var)\n"
                 "  -t        check the configuration and exit: 0 valid, 1 invalid\n"
                 "  --settings-markdown  print the reference of every daemon setting (docs/configuration.md)\n"
                 "  --metrics-markdown   print the reference of every metric (docs/metrics.md)\n"
                 "  -V        print the version\n");
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Only one knoopd may own a data directory: a second one would share the journal. */
static int lock_data_dir(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/knoopd.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    if (fd < 0)
        return -errno;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        int e = errno;
        close(fd);
        return e == EACCES || e == EAGAIN ? -EBUSY : -e;
    }
    return fd; /* held open until exit */
}

/* The data directory is private to the daemon: made 0700, and a looser one found at start is tightened (said so in
 * the log), since everything in it is the daemon's own. */
static int private_data_dir(const char *dir)
{
    int rc = knoop_mkdir_p(dir, 0700);
    struct stat st;
    if (rc == 0 && stat(dir, &st) != 0)
        rc = -errno;
    if (rc == 0 && (st.st_mode & 077)) {
        if (chmod(dir, 0700) != 0)
            return -errno;
        knoop_log_warn("daemon.data_dir_mode_tightened", "dir=\"%s\" was=%04o now=0700", dir,
                       (unsigned)(st.st_mode & 07777));
    }
    return rc;
}

int main(int argc, char **argv)
{
    /* Before anything is created: every file knoopd makes (the journal and its WAL files, keys, the lock, the
     * control socket until its mode is set) is private from the first start, whatever umask it was started under. */
    umask(077);
    const char *config_path = NULL;
    bool check_only = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strcmp(argv[i], "-t") == 0) {
            check_only = true;
        } else if (strcmp(argv[i], "-V") == 0) {
            printf("knoopd %s (protocol %d)\n", KNOOP_VERSION, KNOOP_PROTOCOL_VERSION);
            return 0;
        } else if (strcmp(argv[i], "--settings-markdown") == 0) {
            char *md = knoop_settings_markdown();
            fputs(md ? md : "", stdout);
            free(md);
            return md ? 0 : 1;
        } else if (strcmp(argv[i], "--metrics-markdown") == 0) {
            char *md = knoop_metrics_markdown(knoop_metric_table, knoop_metric_table_len);
            fputs(md ? md : "", stdout);
            free(md);
            return md ? 0 : 1;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    knoop_config_t *config = NULL;
    char err[2048];
    int rc = config_path ? knoop_config_load_file(config_path, &config, err, sizeof err)
                         : knoop_config_load_demo(&config, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "knoopd: configuration invalid: %s\n", err);
        return 1;
    }
    /* The key files the configuration names, as start-up will read them (nginx -t reads its certificates too). */
    if (knoop_auth_check(&config->settings, err, sizeof err) != 0) {
        fprintf(stderr, "knoopd: configuration invalid: %s: %s\n", config->source, err);
        knoop_config_destroy(&config);
        return 1;
    }
    if (check_only) {
        if (config->network)
            printf("knoopd: configuration %s is valid: %zu parties, %zu contracts\n", config->source,
                   knoop_network_party_count(config->network), knoop_network_contract_count(config->network));
        else
            printf("knoopd: configuration %s is valid (no network: messages are routed by receiver only)\n",
                   config->source);
        knoop_config_destroy(&config);
        return 0;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "knoopd: libsodium failed to initialise\n");
        return 1;
    }
    int mk = private_data_dir(config->settings.data_dir);
    if (mk != 0) {
        fprintf(stderr, "knoopd: cannot create data_dir %s (mode 0700): %s\n", config->settings.data_dir,
                strerror(-mk));
        knoop_config_destroy(&config);
        return 1;
    }
    int lock_fd = lock_data_dir(config->settings.data_dir);
    if (lock_fd < 0) {
        fprintf(stderr, "knoopd: data_dir %s: %s\n", config->settings.data_dir,
                lock_fd == -EBUSY ? "another knoopd is running on it" : strerror(-lock_fd));
        knoop_config_destroy(&config);
        return 1;
    }
    uv_loop_t *loop = uv_default_loop();
    knoop_broker_t *broker = calloc(1, sizeof *broker);
    rc = broker ? knoop_app_start(broker, loop, config, config_path) : -ENOMEM;
    if (rc != 0) {
        fprintf(stderr, "knoopd: could not start (%s); see the log above\n", strerror(rc < 0 ? -rc : rc));
        if (broker)
            knoop_app_abort(broker);
        uv_walk(loop, close_walk, NULL);
        uv_run(loop, UV_RUN_DEFAULT);
        uv_loop_close(loop);
        if (broker)
            knoop_config_destroy(&broker->config);
        else
            knoop_config_destroy(&config);
        free(broker);
        close(lock_fd);
        return 1;
    }
    uv_run(loop, UV_RUN_DEFAULT);
    uv_walk(loop, close_walk, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    int code = broker->exit_code;
    knoop_config_destroy(&broker->config);
    free(broker);
    close(lock_fd);
    return code;
}
