/*
 * access — tokens and roles (DESIGN §7), shared by the feed, ingest's HTTP source and delivery.
 *
 * Tokens are configured as SHA-256 hashes (`access.tokens` in config/opswall.json), never in
 * clear: make one with `printf '%s' "$TOKEN" | sha256sum`. A presented token is hashed and
 * compared with every configured hash in constant time (CRYPTO_memcmp), so the time taken says
 * nothing about which prefix matched. Token text is never logged; callers log the token's name.
 *
 * Roles are ordered: viewer < supervisor < admin; a route needs a minimum role. The `ingest` role
 * may only post events (it is not above viewer: it cannot read the board).
 */
#ifndef OW_ACCESS_H
#define OW_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"

#define OW_TOKENS_MAX     64
#define OW_TOKEN_NAME_BUF 64
#define OW_TOKEN_MAX_LEN  512 /* longest token accepted, bytes */

typedef enum {
    OW_ROLE_NONE = 0, /* not authenticated */
    OW_ROLE_INGEST,   /* may post events only */
    OW_ROLE_VIEWER,
    OW_ROLE_SUPERVISOR,
    OW_ROLE_ADMIN
} ow_role;

typedef struct ow_token {
    char name[OW_TOKEN_NAME_BUF]; /* who holds it, for logs and acks ("li.wei") */
    ow_role role;
    unsigned char sha256[32];
} ow_token;

typedef struct ow_access {
    ow_token tokens[OW_TOKENS_MAX];
    int n;
} ow_access;

/* Role of a presented token (NONE when unknown, empty or longer than OW_TOKEN_MAX_LEN); *name
 * (optional) points into `a` for the holder's name. Constant time in the token's content. */
ow_role ow_access_check(const ow_access *a, const char *token, size_t len, const char **name);

/* Does `have` satisfy a route that needs `need`? (INGEST satisfies only INGEST.) */
bool ow_role_allows(ow_role have, ow_role need);

const char *ow_role_name(ow_role r); /* "viewer", ...; "none" */
int ow_role_parse(const char *s);    /* ow_role, or -1 */

/* Extract the token of an HTTP request: "Authorization: Bearer <t>" header value, or the
 * `token` query parameter (browsers' websockets cannot set headers). Returns the length copied
 * into out (NUL-terminated), 0 when none; never more than OW_TOKEN_MAX_LEN. */
size_t ow_access_bearer(const char *authorization_header, char *out, size_t out_size);

/* Parse the `access.tokens` array of the config ({"name","role","sha256"} objects; the clear
 * token is never accepted in config). Messages name source and path. */
int ow_access_parse(ow_access *a, const cJSON *v, const char *path, const char *source,
                    ow_err *err);

/* The tokens as config JSON (hashes only). Caller owns the result (cJSON_Delete). */
cJSON *ow_access_format(const ow_access *a);

#endif
