/* istd.h — public API of the iStandaarden adapter: iWmo 3.2 / iJw 3.2 XML to a decoded message and back.
 * Load the schema set once (read-only, shareable); per message: decode (safe parse + level 1), check (level 2), retour/325, encode. */
#ifndef KNOOP_ISTD_H
#define KNOOP_ISTD_H
#include <stdbool.h>
#include <stddef.h>
#include <libxml/tree.h>

/* ---- message types (table in types.c) ---------------------------------------------------------- */
typedef enum { KNOOP_ISTD_IWMO = 1, KNOOP_ISTD_IJW = 2 } knoop_istd_standard_t;

typedef struct knoop_istd_type {
    knoop_istd_standard_t standard;
    int number;              /* 301 ... 325 */
    const char *name;        /* "WMO301", "JW301": also the message_type of the envelope and the XSD file name */
    const char *berichtcode; /* "414" */
    const char *ns;          /* target namespace of the message */
    int kind;                /* enum knoop.Kind (proto/knoop.proto) */
    int answer;              /* number of the message that answers it (302..., 325 for 323), 0 if none */
    bool from_gemeente;      /* Afzender is a gemeente (CBS) and Ontvanger an AGB code; else the reverse */
} knoop_istd_type_t;

const knoop_istd_type_t *knoop_istd_types(size_t *n); /* all 28 */
const knoop_istd_type_t *knoop_istd_type_find(knoop_istd_standard_t s, int number);
const knoop_istd_type_t *knoop_istd_type_by_ns(const char *ns);
const char *knoop_istd_standard_name(knoop_istd_standard_t s); /* "iwmo-3.2" / "ijw-3.2" */
const char *knoop_istd_basis_ns(knoop_istd_standard_t s);
/* The envelope's content_type, e.g. "application/xml; iwmo-3.2; WMO301". 0 or -ENOSPC. */
int knoop_istd_content_type(const knoop_istd_type_t *t, char *buf, size_t cap);

/* ---- errors: every call appends to a caller-owned list (never printed) -------------------------- */
enum { KNOOP_ISTD_LEVEL_PARSE = 0, KNOOP_ISTD_LEVEL_SCHEMA = 1, KNOOP_ISTD_LEVEL_RULE = 2 };
#define KNOOP_ISTD_MAX_ERRORS 1000 /* further errors are counted in `dropped` only */

typedef struct knoop_istd_error {
    int level;             /* KNOOP_ISTD_LEVEL_* */
    char code[5];          /* level 2: the retour code ("9056"); "" otherwise */
    const char *rule;      /* level 2: rule id from knoop_istd_rule_at(); NULL otherwise (static string) */
    int line;              /* line in the input, 0 if unknown */
    char *message;         /* owned by the list; never contains a BSN */
    const xmlNode *klasse; /* level 2: berichtklasse element the code belongs to (borrowed from the message's
                            * document); NULL = the Header */
} knoop_istd_error_t;

typedef struct knoop_istd_errors {
    knoop_istd_error_t *v; /* owned */
    size_t n, cap;
    size_t dropped;
} knoop_istd_errors_t;

void knoop_istd_errors_clear(knoop_istd_errors_t *e); /* frees all, leaves an empty list */
int knoop_istd_errors_add(knoop_istd_errors_t *e, int level, const char *code, const char *rule, int line,
                          const xmlNode *klasse, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
size_t knoop_istd_errors_count(const knoop_istd_errors_t *e, int level);

/* ---- schema set (schemas.c): parsed once, then read-only; validation contexts are per call ------- */
typedef struct knoop_istd_schemas knoop_istd_schemas_t;

/* dir holds iwmo-3.2/ and ijw-3.2/ (adapters/istd/schemas). 0, -ENOENT, -EINVAL (errors in errs). */
int knoop_istd_schemas_new(knoop_istd_schemas_t **out, const char *dir, knoop_istd_errors_t *errs);
void knoop_istd_schemas_destroy(knoop_istd_schemas_t **p);
/* Level 1: 0 valid, -EBADMSG invalid (every error with its line appended), -ENOMEM. */
int knoop_istd_validate(const knoop_istd_schemas_t *s, const knoop_istd_type_t *t, xmlDoc *doc,
                        knoop_istd_errors_t *errs);
/* The BasisschemaXsdVersie / BerichtXsdVersie of t's XSD (its appinfo, IV034); borrowed. 0 or -ENOENT. */
int knoop_istd_xsd_versie(const knoop_istd_schemas_t *s, const knoop_istd_type_t *t, const char **basis,
                          const char **bericht);
/* True when element `local` of message t carries RetourCodes (a berichtklasse), read from t's XSD. */
bool knoop_istd_is_klasse(const knoop_istd_schemas_t *s, const knoop_istd_type_t *t, const char *local);

/* ---- safe parsing (parse.c) --------------------------------------------------------------------- */
#define KNOOP_ISTD_MAX_BYTES_DEFAULT ((size_t)32 << 20)
#define KNOOP_ISTD_MAX_DEPTH_DEFAULT 256
#define KNOOP_ISTD_MAX_NODES_DEFAULT 200000
typedef struct knoop_istd_limits {
    size_t max_bytes;
    int max_depth;
    size_t max_nodes; /* elements + attributes + comments + processing instructions; 0 = the default */
} knoop_istd_limits_t;

/* No network, no entity substitution, no DTD; any DOCTYPE is refused. The parser counts nodes as it builds them and
 * stops at max_nodes (a tree costs libxml2 ~100 bytes a node: 4 MiB of "<a/>" would be ~100 MB), so a message over
 * the limit never exists in memory whole. 0, -EMSGSIZE (too many bytes or nodes), -EBADMSG, -ENOMEM.
 * lim NULL = defaults. *out is owned by the caller (xmlFreeDoc). */
int knoop_istd_parse(const char *buf, size_t len, const knoop_istd_limits_t *lim, xmlDoc **out,
                     knoop_istd_errors_t *errs);

/* ---- decoded message (decode.c) ----------------------------------------------------------------- */
typedef struct knoop_istd_line {
    size_t client;       /* index into msg->clients */
    char toewijzing[24]; /* ToewijzingNummer */
    char categorie[4];   /* Product/Categorie or ProductCategorie */
    char code[8];        /* Product/Code or ProductCode; "" if none */
    char begin[11];      /* 301 Ingangsdatum, 305/307 Begindatum, 323 ProductPeriode/Begindatum */
    char end[11];        /* 301 Einddatum, 307 Einddatum, 323 ProductPeriode/Einddatum; "" open */
    long long volume;    /* 301 Omvang/Volume, 323 GeleverdVolume; -1 if none */
    char eenheid[4];
    char frequentie[4];      /* 301 Omvang/Frequentie */
    long long tarief;        /* 323 ProductTarief in eurocents, -1 if none */
    long long budget;        /* 301 Budget in eurocents, -1 if none */
    long long bedrag;        /* 323 IngediendBedrag in eurocents, negative for Credit */
    char referentie[24];     /* 323 ProductReferentie/ReferentieNummer */
    char vorig[24];          /* 323 ProductReferentie/VorigReferentieNummer (a credit names its debit), "" if none */
    bool credit;             /* 323 IngediendBedrag/DebetCredit is C */
    char reden_wijziging[4]; /* 301 RedenWijziging ("13" = deleted), "" if none */
    int lineno;
    const xmlNode *node; /* borrowed from msg->doc: the ToegewezenProduct/StartProduct/StopProduct/Prestatie */
} knoop_istd_line_t;

typedef struct knoop_istd_client {
    char bsn[12];        /* personal data: never log */
    const xmlNode *node; /* borrowed from msg->doc */
} knoop_istd_client_t;

typedef struct knoop_istd_msg {
    const knoop_istd_type_t *type;
    xmlDoc *doc;           /* owned: kept for re-encoding and retours */
    const xmlNode *header; /* borrowed from doc */
    char berichtcode[4], versie[4], subversie[4];
    char afzender[12], ontvanger[12];
    char identificatie[16], dagtekening[11];
    char identificatie_retour[16], dagtekening_retour[11]; /* retours; 325: its own id is identificatie */
    knoop_istd_client_t *clients;                          /* owned */
    size_t n_clients;
    knoop_istd_line_t *lines; /* owned */
    size_t n_lines;
} knoop_istd_msg_t;

/* Parse (safe), identify by root namespace and BerichtCode, validate (level 1), decode.
 * 0 ok; -EMSGSIZE / -EBADMSG (not well-formed, unsafe, unknown message, level-1 failure) / -ENOMEM.
 * A level-1 failure is an error to the sender: no retour. */
int knoop_istd_decode(const knoop_istd_schemas_t *s, const char *buf, size_t len, const knoop_istd_limits_t *lim,
                      knoop_istd_msg_t **out, knoop_istd_errors_t *errs);
/* Same for an already parsed document; takes ownership of doc in every case. */
int knoop_istd_decode_doc(const knoop_istd_schemas_t *s, xmlDoc *doc, knoop_istd_msg_t **out,
                          knoop_istd_errors_t *errs);
void knoop_istd_msg_destroy(knoop_istd_msg_t **p);
/* The envelope view. A retour copies the heen Header unchanged, so its real sender is the Header's Ontvanger
 * and its own identity is IdentificatieRetour; for every other message these are Afzender/Identificatie. */
bool knoop_istd_msg_is_retour(const knoop_istd_msg_t *m);
const char *knoop_istd_msg_sender(const knoop_istd_msg_t *m);
const char *knoop_istd_msg_receiver(const knoop_istd_msg_t *m);
const char *knoop_istd_msg_identificatie(const knoop_istd_msg_t *m);
const char *knoop_istd_msg_dagtekening(const knoop_istd_msg_t *m);
/* Serialise (UTF-8, with XML declaration). *out malloc'ed, caller frees. 0 or -ENOMEM. */
int knoop_istd_encode(const knoop_istd_msg_t *m, char **out, size_t *len);
int knoop_istd_encode_doc(xmlDoc *doc, char **out, size_t *len);

/* ---- level 2 (rules.c): one table of rules with their retour codes ------------------------------ */
typedef bool (*knoop_istd_seen_fn)(void *ctx, const char *sender, const char *message_type, const char *identificatie);
typedef bool (*knoop_istd_known_fn)(void *ctx, const char *party_code);

typedef struct knoop_istd_check_opts {
    const char *today;       /* YYYY-MM-DD; NULL skips the date-in-future rule */
    knoop_istd_seen_fn seen; /* NULL skips the uniqueness rule */
    void *seen_ctx;
    knoop_istd_known_fn known; /* NULL skips the known-party rule */
    void *known_ctx;
} knoop_istd_check_opts_t;

typedef struct knoop_istd_rule {
    const char *id;       /* "TR056", "KN-BSN", ... */
    int niveau;           /* controleniveau (IV032): 2 = within the message (retour: Header only, 0001),
                            * 3 = across messages, 4 = external source (code on the berichtklasse) */
    const char *code;     /* retour code */
    const char *klasse;   /* berichtklasse that gets the code */
    const char *messages; /* which messages ("all", "323") */
    const char *text;
} knoop_istd_rule_t;

size_t knoop_istd_rule_count(void);
const knoop_istd_rule_t *knoop_istd_rule_at(size_t i); /* NULL past the end */
/* Appends one level-2 error per failure. Returns the number of failures (0 = accepted) or -EINVAL. */
int knoop_istd_check(const knoop_istd_msg_t *m, const knoop_istd_check_opts_t *o, knoop_istd_errors_t *errs);

/* ---- retour and 325 (retour.c) ------------------------------------------------------------------ */
typedef struct knoop_istd_retour_opts {
    const char *identificatie; /* IdentificatieRetour (325: its BerichtIdentificatie), <= 12 chars */
    const char *dagtekening;   /* YYYY-MM-DD */
    const char *xslt_versie;   /* NULL = "1.0.0" */
} knoop_istd_retour_opts_t;

/* The retour of a heen message (302/306/308/316/318/320) from the level-2 errors of knoop_istd_check
 * (IV028: none -> header only; else every berichtklasse with its codes or 0200). For a 323 this builds
 * the 325 with every Prestatie that has an error rejected. *out owned by the caller (xmlFreeDoc).
 * 0, -EINVAL (no answer for this type), -ENOMEM. */
int knoop_istd_retour(const knoop_istd_schemas_t *s, const knoop_istd_msg_t *heen, const knoop_istd_errors_t *errs,
                      const knoop_istd_retour_opts_t *o, xmlDoc **out);
/* The 325 for a 323 (IV087): codes[i] is the decision for heen->lines[i]: NULL = granted, else the retour code. */
int knoop_istd_declaratie_antwoord(const knoop_istd_schemas_t *s, const knoop_istd_msg_t *heen,
                                   const char *const *codes, const knoop_istd_retour_opts_t *o, xmlDoc **out);

/* ---- white-label rewrite (whitelabel.c) --------------------------------------------------------- */
/* A copy of doc with every provider-code field (Header Afzender/Ontvanger, ZorgverlenerCode) equal to
 * `from` set to `to`. Member -> cooperative on the way to a white-label financier, and the reverse for
 * what comes back. *out owned by the caller; *n (may be NULL) = fields rewritten. 0, -EINVAL, -ENOMEM. */
int knoop_istd_whitelabel(const xmlDoc *doc, const char *from, const char *to, xmlDoc **out, size_t *n);
/* The outbound rewrite towards a white-label financier: a copy of doc without comments and processing instructions,
 * in which every code of members[0..n_members) (AGB codes) in a provider-code field or in free text (Commentaar,
 * ReferentieAanbieder) is replaced by `to`, also inside a longer text. A member code anywhere else (another element's
 * text, an attribute, a namespace) cannot be rewritten without changing what the field says: -EPERM, with where it
 * stands in *where ("element Naam"). *out owned by the caller; *n (may be NULL) = codes replaced. 0, -EINVAL
 * (a code that is not an AGB code), -EPERM, -ENOMEM. */
int knoop_istd_whitelabel_out(const xmlDoc *doc, const char *const *members, size_t n_members, const char *to,
                              xmlDoc **out, size_t *n, char *where, size_t wherelen);

#endif
