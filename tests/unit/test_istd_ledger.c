/* test_istd_ledger.c — the assignment ledger: a 301 replaces a client x provider set; 305/307/323 lines that match
 * pass, lines that do not get the WJ001 code on their berichtklasse; sets survive export/import. */
#include "istd_test_util.h"
#include "istd/ledger.h"

static knoop_ledger_t *ledger_with_301(void)
{
    knoop_ledger_t *l = NULL;
    assert_int_equal(knoop_ledger_new(&l), 0);
    knoop_istd_msg_t *m = istd_decode_conf(S, "iwmo-3.2/examples/WMO301.xml");
    assert_int_equal(knoop_ledger_apply(l, m, NULL, NULL), 0);
    knoop_istd_msg_destroy(&m);
    return l;
}

/* The 305/307 example made to refer to the 301 example's assignment 101 (provider 42420001). */
static xmlDoc *start_or_stop(int number, const char *begin, const char *end)
{
    char p[64];
    snprintf(p, sizeof p, "iwmo-3.2/examples/WMO%d.xml", number);
    xmlDoc *d = istd_parse_conf(p);
    istd_set(d, "Afzender", 0, "42420001");
    istd_set(d, "ToewijzingNummer", 0, "101");
    istd_set(d, "Categorie", 0, "01");
    istd_set(d, "Code", 0, "01A01");
    istd_set(d, "Begindatum", 0, begin);
    if (end)
        istd_set(d, "Einddatum", 0, end);
    return d; /* the second line keeps ToewijzingNummer 300202: unknown */
}

static int check(knoop_ledger_t *l, xmlDoc *d, knoop_istd_msg_t **m, knoop_istd_errors_t *e)
{
    knoop_istd_errors_t l1 = {0};
    int rc = istd_decode_copy(S, d, m, &l1);
    if (rc) {
        istd_print_errors(&l1);
        fail_msg("level 1: %d", rc);
    }
    knoop_istd_errors_clear(&l1);
    return knoop_ledger_check(l, *m, NULL, NULL, e);
}

static void test_301_fills_the_ledger(void **state)
{
    (void)state;
    knoop_ledger_t *l = ledger_with_301();
    assert_int_equal(knoop_ledger_count(l), 1);
    const knoop_ledger_assignment_t *a;
    size_t n;
    assert_int_equal(knoop_ledger_get(l, (const unsigned char *)"999900006", 9, "42420001", &a, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(a[0].toewijzing, "101");
    assert_string_equal(a[0].code, "01A01");
    assert_string_equal(a[0].begin, "2023-01-01");
    assert_string_equal(a[0].end, "2023-12-31");
    assert_int_equal(a[0].volume, 10);
    assert_int_equal(knoop_ledger_get(l, (const unsigned char *)"999900006", 9, "42420002", &a, &n), 0);
    assert_int_equal(n, 0); /* per provider */
    knoop_ledger_destroy(&l);
    assert_null(l);
}

static void test_start_and_stop(void **state)
{
    (void)state;
    knoop_ledger_t *l = ledger_with_301();
    knoop_istd_msg_t *m = NULL;
    knoop_istd_errors_t e = {0};
    xmlDoc *d = start_or_stop(305, "2023-02-01", NULL);
    assert_int_equal(check(l, d, &m, &e), 1); /* line 1 matches, line 2 (300202) does not */
    assert_int_equal(e.n, 1);
    assert_string_equal(e.v[0].code, "9019");
    assert_ptr_equal(e.v[0].klasse, m->lines[1].node);
    xmlDoc *r = istd_valid_retour(S, m, &e, "R1", "2023-02-02");
    xmlChar *t1 = xmlNodeGetContent(istd_find(r, "StartProduct", 0)->last);
    xmlChar *t2 = xmlNodeGetContent(istd_find(r, "StartProduct", 1)->last);
    assert_non_null(strstr((const char *)t1, "0200"));
    assert_non_null(strstr((const char *)t2, "9019"));
    xmlFree(t1), xmlFree(t2);
    xmlFreeDoc(r);
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
    xmlFreeDoc(d);
    /* before the assignment period, and a different product */
    d = start_or_stop(305, "2022-12-01", NULL);
    assert_int_equal(check(l, d, &m, &e), 2);
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
    istd_set(d, "Begindatum", 0, "2023-03-01");
    istd_set(d, "Code", 0, "01A02");
    assert_int_equal(check(l, d, &m, &e), 2);
    assert_string_equal(e.v[0].code, "9019");
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
    xmlFreeDoc(d);
    /* stop inside and past the assignment */
    d = start_or_stop(307, "2023-02-01", "2023-06-30");
    assert_int_equal(check(l, d, &m, &e), 1);
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
    istd_set(d, "Einddatum", 0, "2024-01-31");
    assert_int_equal(check(l, d, &m, &e), 2);
    assert_ptr_equal(e.v[0].klasse, m->lines[0].node);
    assert_string_equal(e.v[0].code, "9019");
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
    xmlFreeDoc(d);
    knoop_ledger_destroy(&l);
}

static void set(knoop_ledger_assignment_t *a, const char *nr, const char *cat, const char *code, const char *b,
                const char *e)
{
    memset(a, 0, sizeof *a);
    snprintf(a->toewijzing, sizeof a->toewijzing, "%s", nr);
    snprintf(a->categorie, sizeof a->categorie, "%s", cat);
    snprintf(a->code, sizeof a->code, "%s", code);
    snprintf(a->begin, sizeof a->begin, "%s", b);
    snprintf(a->end, sizeof a->end, "%s", e);
    a->volume = -1;
}

/* The 323 example's assignments: provider 65656055, two clients, two products each. */
static knoop_ledger_t *ledger_for_323(const knoop_ledger_assignment_t *second_client_last)
{
    knoop_ledger_t *l = NULL;
    assert_int_equal(knoop_ledger_new(&l), 0);
    knoop_ledger_assignment_t a[2];
    set(&a[0], "20072", "01", "01A03", "2023-01-01", "2023-12-31");
    set(&a[1], "200730", "01", "01A04", "2023-04-01", "");
    assert_int_equal(knoop_ledger_replace(l, (const unsigned char *)"999900006", 9, "65656055", a, 2), 0);
    set(&a[0], "20074", "01", "01A03", "2023-01-01", "2023-12-31");
    if (second_client_last)
        a[1] = *second_client_last;
    else
        set(&a[1], "20073", "01", "01A04", "2023-01-01", "2023-12-31");
    assert_int_equal(knoop_ledger_replace(l, (const unsigned char *)"999900018", 9, "65656055", a, 2), 0);
    return l;
}

static void test_declaration(void **state)
{
    (void)state;
    knoop_istd_msg_t *m = istd_decode_conf(S, "iwmo-3.2/examples/WMO323.xml");
    knoop_istd_errors_t e = {0};
    knoop_ledger_t *l = ledger_for_323(NULL);
    assert_int_equal(knoop_ledger_check(l, m, NULL, NULL, &e), 0);
    knoop_ledger_destroy(&l);
    static const struct {
        const char *nr, *cat, *code, *b, *e, *want;
    } cases[] = {
        {"20079", "01", "01A04", "2023-01-01", "2023-12-31", "9338"}, /* not assigned */
        {"20073", "02", "02A04", "2023-01-01", "2023-12-31", "9339"}, /* other category */
        {"20073", "01", "01A05", "2023-01-01", "2023-12-31", "9340"}, /* other product code */
        {"20073", "01", "01A04", "2023-04-10", "2023-12-31", "9307"}, /* starts after the prestatie begins */
        {"20073", "01", "01A04", "2023-01-01", "2023-04-20", "9308"}, /* ends before the prestatie ends */
        {"20073", "01", "", "2023-01-01", "", NULL},                  /* aspecific, open-ended: fine */
        {"20073", "01", "01A04", "2023-04-01", "2023-04-30", NULL},   /* exactly the month */
        {"20073", "", "", "2023-04-01", "2023-04-30", NULL},          /* generic: fine */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        knoop_ledger_assignment_t last;
        set(&last, cases[i].nr, cases[i].cat, cases[i].code, cases[i].b, cases[i].e);
        l = ledger_for_323(&last);
        int refused = knoop_ledger_check(l, m, NULL, NULL, &e);
        if (!cases[i].want) {
            assert_int_equal(refused, 0);
        } else {
            assert_int_equal(refused, 1);
            assert_string_equal(e.v[0].code, cases[i].want);
            assert_ptr_equal(e.v[0].klasse, m->lines[3].node);
            xmlDoc *r = istd_valid_retour(S, m, &e, "DA1", "2023-05-07");
            assert_null(istd_find(r, "Prestatie", 1)); /* only RN004 is rejected */
            xmlChar *t = xmlNodeGetContent(istd_find(r, "ReferentieNummer", 0));
            assert_string_equal((const char *)t, "RN004");
            xmlFree(t);
            xmlFreeDoc(r);
        }
        knoop_istd_errors_clear(&e);
        knoop_ledger_destroy(&l);
    }
    knoop_istd_msg_destroy(&m);
}

/* 317: OngewijzigdProduct 10071 and TeWijzigenProduct 10072 must be current assignments, and every current
 * assignment must be named (TR349/350/351). */
static void test_change_request(void **state)
{
    (void)state;
    knoop_istd_msg_t *m = istd_decode_conf(S, "iwmo-3.2/examples/WMO317.xml");
    const unsigned char *bsn = (const unsigned char *)"999900006";
    knoop_ledger_t *l = NULL;
    assert_int_equal(knoop_ledger_new(&l), 0);
    knoop_ledger_assignment_t a[3];
    set(&a[0], "10071", "01", "01A01", "2023-01-01", "");
    set(&a[1], "10072", "01", "01A02", "2023-01-01", "2023-12-31");
    set(&a[2], "10073", "01", "01A03", "2022-01-01", "2022-12-31"); /* ended: need not be named */
    assert_int_equal(knoop_ledger_replace(l, bsn, 9, "65656055", a, 3), 0);
    knoop_istd_errors_t e = {0};
    assert_int_equal(knoop_ledger_check(l, m, NULL, NULL, &e), 0);
    set(&a[2], "10073", "01", "01A03", "2023-01-01", ""); /* current, not named */
    assert_int_equal(knoop_ledger_replace(l, bsn, 9, "65656055", a, 3), 0);
    assert_int_equal(knoop_ledger_check(l, m, NULL, NULL, &e), 1);
    assert_string_equal(e.v[0].code, "9349");
    assert_ptr_equal(e.v[0].klasse, m->clients[0].node);
    knoop_istd_errors_clear(&e);
    assert_int_equal(knoop_ledger_replace(l, bsn, 9, "65656055", &a[1], 1), 0); /* 10071 unknown */
    assert_int_equal(knoop_ledger_check(l, m, NULL, NULL, &e), 1);
    assert_string_equal(e.v[0].code, "9350");
    assert_string_equal((const char *)e.v[0].klasse->name, "OngewijzigdProduct");
    knoop_istd_errors_clear(&e);
    /* 10072 unknown: the retour is exactly the derived WMO318-rejected example */
    assert_int_equal(knoop_ledger_replace(l, bsn, 9, "65656055", &a[0], 1), 0);
    assert_int_equal(knoop_ledger_check(l, m, NULL, NULL, &e), 1);
    assert_string_equal(e.v[0].code, "9351");
    xmlDoc *r = istd_valid_retour(S, m, &e, "R4810001", "2023-04-03");
    xmlDoc *want = istd_parse_conf("iwmo-3.2/examples-derived/WMO318-rejected.xml");
    istd_assert_equiv(r, want, "318 from the ledger");
    xmlFreeDoc(want);
    xmlFreeDoc(r);
    knoop_istd_errors_clear(&e);
    knoop_ledger_destroy(&l);
    knoop_istd_msg_destroy(&m);
}

/* RedenWijziging 13: the assignment is deleted; a declaration on it gets 9384 (TR384), a start 9019. */
static void test_deleted_assignment(void **state)
{
    (void)state;
    xmlDoc *d301 = istd_parse_conf("iwmo-3.2/examples/WMO301.xml");
    xmlNode *eind = istd_find(d301, "Einddatum", 0);
    xmlNode *reden = xmlNewDocNode(d301, eind->ns, BAD_CAST "RedenWijziging", BAD_CAST "13");
    xmlAddNextSibling(eind, reden);
    istd_set(d301, "Einddatum", 0, "2023-01-01"); /* deleted: Einddatum = Ingangsdatum */
    knoop_istd_msg_t *m = NULL;
    knoop_istd_errors_t e = {0};
    assert_int_equal(istd_decode_copy(S, d301, &m, &e), 0);
    assert_string_equal(m->lines[0].reden_wijziging, "13");
    knoop_ledger_t *l = NULL;
    assert_int_equal(knoop_ledger_new(&l), 0);
    assert_int_equal(knoop_ledger_apply(l, m, NULL, NULL), 0);
    knoop_istd_msg_destroy(&m);
    xmlFreeDoc(d301);
    xmlDoc *d = start_or_stop(305, "2023-01-01", NULL);
    assert_int_equal(check(l, d, &m, &e), 2);
    assert_string_equal(e.v[0].code, "9019");
    assert_non_null(strstr(e.v[0].message, "deleted"));
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
    xmlFreeDoc(d);
    /* a 323 on it */
    d = istd_parse_conf("iwmo-3.2/examples/WMO323.xml");
    istd_set(d, "Afzender", 0, "42420001");
    istd_set(d, "ToewijzingNummer", 0, "101");
    assert_int_equal(check(l, d, &m, &e), 4); /* the others: client 2 has no assignments */
    assert_string_equal(e.v[0].code, "9384");
    assert_string_equal(e.v[1].code, "9338");
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
    xmlFreeDoc(d);
    /* it survives export/import */
    unsigned char *blob;
    size_t len;
    assert_int_equal(knoop_ledger_export(l, (const unsigned char *)"999900006", 9, "42420001", &blob, &len), 0);
    knoop_ledger_t *l2 = NULL;
    assert_int_equal(knoop_ledger_new(&l2), 0);
    assert_int_equal(knoop_ledger_import(l2, (const unsigned char *)"999900006", 9, "42420001", blob, len), 0);
    const knoop_ledger_assignment_t *a;
    size_t n;
    knoop_ledger_get(l2, (const unsigned char *)"999900006", 9, "42420001", &a, &n);
    assert_int_equal(n, 1);
    assert_string_equal(a[0].reden_wijziging, "13");
    free(blob);
    knoop_ledger_destroy(&l2);
    knoop_ledger_destroy(&l);
}

/* TR387/388: a ProductPeriode runs from the 1st to the last day of its month, unless the assignment starts or ends
 * inside that month. */
static void test_month_boundaries(void **state)
{
    (void)state;
    static const struct {
        const char *pb, *pe, *ab, *ae, *want;
    } cases[] = {
        {"2023-04-03", "2023-04-30", "2023-01-01", "", "9387"},
        {"2023-04-03", "2023-04-30", "2023-04-03", "", NULL}, /* the assignment starts on the 3rd */
        {"2023-04-01", "2023-04-29", "2023-01-01", "", "9388"},
        {"2023-04-01", "2023-04-29", "2023-01-01", "2023-04-29", NULL},
        {"2024-02-01", "2024-02-29", "2024-01-01", "", NULL}, /* leap year */
        {"2023-02-01", "2023-02-28", "2023-01-01", "", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xmlDoc *d = istd_parse_conf("iwmo-3.2/examples/WMO323.xml");
        istd_set(d, "Begindatum", 0, cases[i].pb); /* DeclaratiePeriode: keep TR137/319 quiet */
        istd_set(d, "Einddatum", 0, cases[i].pe);
        istd_set(d, "Begindatum", 1, cases[i].pb); /* first Prestatie (20072) */
        istd_set(d, "Einddatum", 1, cases[i].pe);
        istd_set(d, "DeclaratieDagtekening", 0, "2024-03-06");
        istd_set(d, "Dagtekening", 0, "2024-03-06");
        knoop_ledger_assignment_t a[2];
        set(&a[0], "20072", "01", "01A03", cases[i].ab, cases[i].ae);
        set(&a[1], "200730", "01", "01A04", "2023-01-01", "");
        knoop_ledger_t *l = ledger_for_323(NULL);
        assert_int_equal(knoop_ledger_replace(l, (const unsigned char *)"999900006", 9, "65656055", a, 2), 0);
        knoop_istd_msg_t *m = NULL;
        knoop_istd_errors_t e = {0};
        int n = check(l, d, &m, &e);
        if (cases[i].want) {
            assert_int_equal(n, 1);
            assert_string_equal(e.v[0].code, cases[i].want);
            assert_ptr_equal(e.v[0].klasse, m->lines[0].node);
        } else {
            if (n)
                istd_print_errors(&e);
            assert_int_equal(n, 0);
        }
        knoop_istd_errors_clear(&e);
        knoop_istd_msg_destroy(&m);
        knoop_ledger_destroy(&l);
        xmlFreeDoc(d);
    }
}

static void test_a_301_replaces_never_merges(void **state)
{
    (void)state;
    knoop_ledger_t *l = ledger_with_301();
    xmlDoc *d = istd_parse_conf("iwmo-3.2/examples/WMO301.xml");
    istd_set(d, "ToewijzingNummer", 0, "102");
    knoop_istd_msg_t *m = NULL;
    knoop_istd_errors_t e = {0};
    assert_int_equal(istd_decode_copy(S, d, &m, &e), 0);
    assert_int_equal(knoop_ledger_apply(l, m, NULL, NULL), 0);
    knoop_istd_msg_destroy(&m);
    const knoop_ledger_assignment_t *a;
    size_t n;
    assert_int_equal(knoop_ledger_get(l, (const unsigned char *)"999900006", 9, "42420001", &a, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(a[0].toewijzing, "102");
    xmlFreeDoc(d);
    d = start_or_stop(305, "2023-02-01", NULL); /* refers to 101: gone */
    assert_int_equal(check(l, d, &m, &e), 2);
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
    xmlFreeDoc(d);
    /* an empty set removes the client x provider */
    assert_int_equal(knoop_ledger_replace(l, (const unsigned char *)"999900006", 9, "42420001", NULL, 0), 0);
    assert_int_equal(knoop_ledger_count(l), 0);
    knoop_ledger_destroy(&l);
}

/* The daemon keys clients by a keyed hash; here a stand-in that reverses the digits. */
static int reverse_key(void *ctx, const char *bsn, unsigned char *key, size_t cap, size_t *len)
{
    (void)ctx;
    size_t n = strlen(bsn);
    if (n > cap)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        key[i] = (unsigned char)bsn[n - 1 - i];
    *len = n;
    return 0;
}

static void test_client_key_function(void **state)
{
    (void)state;
    knoop_ledger_t *l = NULL;
    assert_int_equal(knoop_ledger_new(&l), 0);
    knoop_istd_msg_t *m = istd_decode_conf(S, "iwmo-3.2/examples/WMO301.xml");
    assert_int_equal(knoop_ledger_apply(l, m, reverse_key, NULL), 0);
    knoop_istd_msg_destroy(&m);
    const knoop_ledger_assignment_t *a;
    size_t n;
    assert_int_equal(knoop_ledger_get(l, (const unsigned char *)"999900006", 9, "42420001", &a, &n), 0);
    assert_int_equal(n, 0); /* the BSN itself is not a key */
    assert_int_equal(knoop_ledger_get(l, (const unsigned char *)"600009999", 9, "42420001", &a, &n), 0);
    assert_int_equal(n, 1);
    xmlDoc *d = start_or_stop(305, "2023-02-01", NULL);
    knoop_istd_errors_t e = {0};
    assert_int_equal(istd_decode_copy(S, d, &m, &e), 0);
    assert_int_equal(knoop_ledger_check(l, m, reverse_key, NULL, &e), 1);
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
    xmlFreeDoc(d);
    knoop_ledger_destroy(&l);
}

static void test_export_import(void **state)
{
    (void)state;
    knoop_ledger_t *l = ledger_for_323(NULL), *l2 = NULL;
    unsigned char *blob = NULL;
    size_t len = 0;
    assert_int_equal(knoop_ledger_export(l, (const unsigned char *)"999900006", 9, "65656055", &blob, &len), 0);
    assert_memory_equal(blob, "KL1\n", 4);
    assert_int_equal(knoop_ledger_new(&l2), 0);
    assert_int_equal(knoop_ledger_import(l2, (const unsigned char *)"c1", 2, "65656055", blob, len), 0);
    const knoop_ledger_assignment_t *a, *b;
    size_t na, nb;
    knoop_ledger_get(l, (const unsigned char *)"999900006", 9, "65656055", &a, &na);
    knoop_ledger_get(l2, (const unsigned char *)"c1", 2, "65656055", &b, &nb);
    assert_int_equal(na, 2);
    assert_int_equal(nb, 2);
    assert_memory_equal(a, b, 2 * sizeof *a);
    assert_int_equal(
        knoop_ledger_import(l2, (const unsigned char *)"c1", 2, "65656055", (const unsigned char *)"XX", 2), -EINVAL);
    const char *torn = "KL1\n20072\t01\t01A03\t2023-01-01";
    assert_int_equal(
        knoop_ledger_import(l2, (const unsigned char *)"c1", 2, "65656055", (const unsigned char *)torn, strlen(torn)),
        -EINVAL);
    const char *torn2 = "KL1\n20072\t01\t01A03\t2023-01-01\t\t-1\t\t\t\n20073\t01";
    assert_int_equal(knoop_ledger_import(l2, (const unsigned char *)"c1", 2, "65656055", (const unsigned char *)torn2,
                                         strlen(torn2)),
                     -EINVAL);
    knoop_ledger_get(l2, (const unsigned char *)"c1", 2, "65656055", &b, &nb);
    assert_int_equal(nb, 2); /* a bad blob changes nothing */
    free(blob);
    knoop_ledger_destroy(&l);
    knoop_ledger_destroy(&l2);
}

static void test_many_clients(void **state)
{
    (void)state;
    knoop_ledger_t *l = NULL;
    assert_int_equal(knoop_ledger_new(&l), 0);
    knoop_ledger_assignment_t a;
    set(&a, "1", "01", "01A01", "2023-01-01", "");
    char key[16];
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "%09d", i);
        assert_int_equal(knoop_ledger_replace(l, (unsigned char *)key, 9, "42420001", &a, 1), 0);
    }
    for (int i = 0; i < 20000; i += 2) {
        snprintf(key, sizeof key, "%09d", i);
        assert_int_equal(knoop_ledger_replace(l, (unsigned char *)key, 9, "42420001", NULL, 0), 0);
    }
    assert_int_equal(knoop_ledger_count(l), 10000);
    for (int i = 0; i < 20000; i++) {
        const knoop_ledger_assignment_t *g;
        size_t n;
        snprintf(key, sizeof key, "%09d", i);
        knoop_ledger_get(l, (unsigned char *)key, 9, "42420001", &g, &n);
        assert_int_equal(n, (size_t)(i % 2));
    }
    knoop_ledger_destroy(&l);
}

static void test_wrong_message_types(void **state)
{
    (void)state;
    knoop_ledger_t *l = ledger_with_301();
    knoop_istd_msg_t *m = istd_decode_conf(S, "iwmo-3.2/examples/WMO319.xml");
    assert_int_equal(knoop_ledger_check(l, m, NULL, NULL, NULL), -EINVAL);
    assert_int_equal(knoop_ledger_apply(l, m, NULL, NULL), -EINVAL);
    knoop_istd_msg_destroy(&m);
    knoop_ledger_destroy(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_301_fills_the_ledger),
        cmocka_unit_test(test_start_and_stop),
        cmocka_unit_test(test_declaration),
        cmocka_unit_test(test_change_request),
        cmocka_unit_test(test_deleted_assignment),
        cmocka_unit_test(test_month_boundaries),
        cmocka_unit_test(test_a_301_replaces_never_merges),
        cmocka_unit_test(test_client_key_function),
        cmocka_unit_test(test_export_import),
        cmocka_unit_test(test_many_clients),
        cmocka_unit_test(test_wrong_message_types),
    };
    return cmocka_run_group_tests(tests, istd_group_setup, istd_group_teardown);
}
