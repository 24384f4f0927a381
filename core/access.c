#include "access.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

static const char *const role_names[] = {"none", "ingest", "viewer", "supervisor", "admin"};

const char *ow_role_name(ow_role r)
{
    return r >= OW_ROLE_NONE && r <= OW_ROLE_ADMIN ? role_names[r] : "none";
}

int ow_role_parse(const char *s)
{
    for (int r = OW_ROLE_INGEST; r <= OW_ROLE_ADMIN; r++)
        if (strcmp(s, role_names[r]) == 0) return r;
    return -1;
}

bool ow_role_allows(ow_role have, ow_role need)
{
    if (need == OW_ROLE_NONE) return true;
    if (have == OW_ROLE_NONE) return false;
    /* ingest is a side door for producers, not a rung of the board's ladder */
    if (need == OW_ROLE_INGEST) return have == OW_ROLE_INGEST || have == OW_ROLE_ADMIN;
    if (have == OW_ROLE_INGEST) return false;
    return have >= need;
}

ow_role ow_access_check(const ow_access *a, const char *token, size_t len, const char **name)
{
    if (name) *name = NULL;
    if (!a || !token || len == 0 || len > OW_TOKEN_MAX_LEN) return OW_ROLE_NONE;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, len, digest);
    /* every configured hash is compared, match or not, so timing does not tell which one */
    int found = -1;
    for (int i = 0; i < a->n; i++)
        if (CRYPTO_memcmp(digest, a->tokens[i].sha256, sizeof digest) == 0 && found < 0) found = i;
    if (found < 0) return OW_ROLE_NONE;
    if (name) *name = a->tokens[found].name;
    return a->tokens[found].role;
}

size_t ow_access_bearer(const char *header, char *out, size_t out_size)
{
    if (out_size) out[0] = '\0';
    if (!header || out_size < 2) return 0;
    while (*header == ' ')
        header++;
    if (strncasecmp(header, "Bearer ", 7) != 0) return 0;
    header += 7;
    while (*header == ' ')
        header++;
    size_t len = strcspn(header, " \t\r\n");
    if (len == 0 || len > OW_TOKEN_MAX_LEN || len >= out_size) return 0;
    memcpy(out, header, len);
    out[len] = '\0';
    return len;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int bad(ow_err *err, const char *source, const char *path, int i, const char *what)
{
    return ow_err_set(err, OW_EINVAL, "%s: %s[%d]: %s", source, path, i, what);
}

int ow_access_parse(ow_access *a, const cJSON *v, const char *path, const char *source, ow_err *err)
{
    memset(a, 0, sizeof *a);
    if (!cJSON_IsArray(v))
        return ow_err_set(err, OW_EINVAL,
                          "%s: %s: expected an array of {\"name\",\"role\",\"sha256\"}, got %s",
                          source, path, ow_json_type_name(v));
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, v)
    {
        if (i >= OW_TOKENS_MAX)
            return ow_err_set(err, OW_EINVAL, "%s: %s: at most %d tokens", source, path,
                              OW_TOKENS_MAX);
        if (!cJSON_IsObject(t)) return bad(err, source, path, i, "expected an object");
        for (const cJSON *m = t->child; m; m = m->next)
            if (strcmp(m->string, "name") && strcmp(m->string, "role") &&
                strcmp(m->string, "sha256")) {
                char what[160];
                snprintf(what, sizeof what,
                         "unknown key \"%.40s\" (tokens have name, role and sha256; never the "
                         "token itself)",
                         m->string);
                return bad(err, source, path, i, what);
            }
        const cJSON *name = ow_json_get(t, "name"), *role = ow_json_get(t, "role"),
                    *hash = ow_json_get(t, "sha256");
        ow_token *k = &a->tokens[i];
        if (!cJSON_IsString(name) || !name->valuestring[0] ||
            strlen(name->valuestring) >= sizeof k->name)
            return bad(err, source, path, i, "name: expected a string of 1 to 63 bytes");
        int r = cJSON_IsString(role) ? ow_role_parse(role->valuestring) : -1;
        if (r < 0)
            return bad(err, source, path, i,
                       "role: expected one of viewer|supervisor|admin|ingest");
        if (!cJSON_IsString(hash) || strlen(hash->valuestring) != 64)
            return bad(err, source, path, i,
                       "sha256: expected 64 hex digits, e.g. from: printf '%s' \"$TOKEN\" | "
                       "sha256sum");
        for (int b = 0; b < 32; b++) {
            int hi = hexval(hash->valuestring[2 * b]), lo = hexval(hash->valuestring[2 * b + 1]);
            if (hi < 0 || lo < 0)
                return bad(err, source, path, i, "sha256: expected 64 hex digits (0-9, a-f)");
            k->sha256[b] = (unsigned char)(hi << 4 | lo);
        }
        for (int j = 0; j < i; j++)
            if (memcmp(a->tokens[j].sha256, k->sha256, 32) == 0)
                return bad(err, source, path, i, "sha256: the same token is configured twice");
        snprintf(k->name, sizeof k->name, "%s", name->valuestring);
        k->role = (ow_role)r;
        a->n = ++i;
    }
    return OW_OK;
}

cJSON *ow_access_format(const ow_access *a)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < a->n; i++) {
        char hex[65];
        for (int b = 0; b < 32; b++)
            snprintf(hex + 2 * b, 3, "%02x", a->tokens[i].sha256[b]);
        cJSON *t = cJSON_CreateObject();
        if (!t || !cJSON_AddItemToArray(arr, t) ||
            !cJSON_AddStringToObject(t, "name", a->tokens[i].name) ||
            !cJSON_AddStringToObject(t, "role", ow_role_name(a->tokens[i].role)) ||
            !cJSON_AddStringToObject(t, "sha256", hex)) {
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}
