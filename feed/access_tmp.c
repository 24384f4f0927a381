/* TEMPORARY stand-in for core/access.c until main lands it (not committed). */
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "access.h"
ow_role ow_access_check(const ow_access *a, const char *token, size_t len, const char **name)
{
    if (name) *name = NULL;
    if (!a || !len || len > OW_TOKEN_MAX_LEN) return OW_ROLE_NONE;
    unsigned char h[32];
    SHA256((const unsigned char *)token, len, h);
    ow_role r = OW_ROLE_NONE;
    for (int i = 0; i < a->n; i++)
        if (CRYPTO_memcmp(h, a->tokens[i].sha256, 32) == 0) {
            r = a->tokens[i].role;
            if (name) *name = a->tokens[i].name;
        }
    return r;
}
bool ow_role_allows(ow_role have, ow_role need)
{
    if (need == OW_ROLE_INGEST) return have == OW_ROLE_INGEST || have == OW_ROLE_ADMIN;
    if (have == OW_ROLE_INGEST) return false;
    return have >= need;
}
const char *ow_role_name(ow_role r)
{
    static const char *n[] = {"none", "ingest", "viewer", "supervisor", "admin"};
    return r >= 0 && r <= OW_ROLE_ADMIN ? n[r] : "none";
}
int ow_role_parse(const char *s)
{
    for (int r = 0; r <= OW_ROLE_ADMIN; r++)
        if (strcmp(s, ow_role_name((ow_role)r)) == 0) return r;
    return -1;
}
size_t ow_access_bearer(const char *h, char *out, size_t out_size)
{
    out[0] = 0;
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) return 0;
    h += 7;
    while (*h == ' ') h++;
    size_t n = strlen(h);
    while (n && h[n - 1] == ' ') n--;
    if (!n || n > OW_TOKEN_MAX_LEN || n >= out_size) return 0;
    memcpy(out, h, n);
    out[n] = 0;
    return n;
}
/* OW_TMP_TOKENS="name:role:token,..." */
void ow_tmp_access_env(ow_access *a)
{
    memset(a, 0, sizeof *a);
    const char *e = getenv("OW_TMP_TOKENS");
    if (!e) return;
    char *d = strdup(e), *save = NULL;
    for (char *t = strtok_r(d, ",", &save); t && a->n < OW_TOKENS_MAX; t = strtok_r(NULL, ",", &save)) {
        char *c1 = strchr(t, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c1 = *c2 = 0;
        ow_token *k = &a->tokens[a->n++];
        snprintf(k->name, sizeof k->name, "%s", t);
        k->role = (ow_role)ow_role_parse(c1 + 1);
        SHA256((unsigned char *)c2 + 1, strlen(c2 + 1), k->sha256);
    }
    free(d);
}
