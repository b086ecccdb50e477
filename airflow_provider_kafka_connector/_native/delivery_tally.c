/*
 * A librdkafka plugin that tallies a producer's delivery outcomes in C (see native_tally.py).
 *
 * confluent-kafka calls back into Python once per delivery report: it builds a Message object and calls the
 * callback, about a microsecond a message, which is most of what a batch costs beyond a bare produce loop. This
 * plugin's on_acknowledgement interceptor sees every message's outcome (librdkafka calls it for each message as it
 * is acknowledged or fails for good, before the delivery report is queued) and keeps what a batch's summary needs:
 * how many were acknowledged, how many failed and the first error, and each partition's lowest and highest offset
 * with their timestamps. The messages then need no Python callback at all.
 *
 * librdkafka loads the plugin through `plugin.library.paths` and calls conf_init(); the property
 * `kafka_connector.delivery_tally` names the tally (a slot number) that the producer's interceptor adds to. Python
 * reads the slots through ctypes (the same shared object, loaded once per process).
 *
 * The same plugin is also a token source (see native_token.py): a client whose configuration names a slot in
 * `kafka_connector.token_source` gets the plugin's OAUTHBEARER token refresh callback, which asks Python for the
 * token, instead of confluent-kafka's oauth_cb. From 2.13, confluent-kafka makes a client with an oauth_cb wait for
 * its first token in steps of a whole second (wait_for_oauth_token_set in confluent_kafka.c); this callback runs
 * from rd_kafka_poll(), which the provider calls right after making the client.
 *
 * The plugin calls the librdkafka functions in `api`. It looks them up in the librdkafka that called conf_init() (found
 * with dladdr on the caller's address) instead of linking to one: confluent-kafka's wheels bundle their own
 * librdkafka under a private name, loaded with local symbols only.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The parts of librdkafka's public ABI (rdkafka.h) that this plugin uses. */
typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_conf_s rd_kafka_conf_t;
typedef struct rd_kafka_message_s {
        int err;
        void *rkt;
        int32_t partition;
        void *payload;
        size_t len;
        void *key;
        size_t key_len;
        int64_t offset;
        void *_private;
} rd_kafka_message_t;

enum { CONF_UNKNOWN = -2, CONF_INVALID = -1, CONF_OK = 0 };
enum { ERR_NO_ERROR = 0, ERR_FAIL = -196 };

typedef int(on_conf_set_f)(rd_kafka_conf_t *, const char *, const char *, char *, size_t, void *);
typedef int(on_conf_dup_f)(rd_kafka_conf_t *, const rd_kafka_conf_t *, size_t, const char **, void *);
typedef int(on_conf_destroy_f)(void *);
typedef int(on_new_f)(rd_kafka_t *, const rd_kafka_conf_t *, void *, char *, size_t);
typedef int(on_acknowledgement_f)(rd_kafka_t *, rd_kafka_message_t *, void *);
typedef int(on_destroy_f)(rd_kafka_t *, void *);
typedef void(token_refresh_f)(rd_kafka_t *, const char *, void *);

static struct {
        int (*add_on_conf_set)(rd_kafka_conf_t *, const char *, on_conf_set_f *, void *);
        int (*add_on_conf_dup)(rd_kafka_conf_t *, const char *, on_conf_dup_f *, void *);
        int (*add_on_conf_destroy)(rd_kafka_conf_t *, const char *, on_conf_destroy_f *, void *);
        int (*add_on_new)(rd_kafka_conf_t *, const char *, on_new_f *, void *);
        int (*add_on_acknowledgement)(rd_kafka_t *, const char *, on_acknowledgement_f *, void *);
        int64_t (*message_timestamp)(const rd_kafka_message_t *, int *);
        int (*add_on_destroy)(rd_kafka_t *, const char *, on_destroy_f *, void *);
        void (*set_token_refresh_cb)(rd_kafka_conf_t *, token_refresh_f *);
        int (*set_token)(rd_kafka_t *, const char *, int64_t, const char *, const char **, size_t, char *, size_t);
        int (*set_token_failure)(rd_kafka_t *, const char *);
} api;

#define PROPERTY "kafka_connector.delivery_tally"
#define TOKEN_PROPERTY "kafka_connector.token_source"
#define INTERCEPTOR "kafka_connector_delivery_tally"
#define SLOTS 256

typedef struct {
        int64_t low_offset, high_offset, low_timestamp, high_timestamp;
} partition_ends_t;

typedef struct {
        pthread_mutex_t lock;
        int64_t acknowledged, failed;
        int first_error;
        int32_t partition_count; /* entries in ends: the highest acknowledged partition + 1 */
        partition_ends_t *ends;  /* low_offset -1: no message acknowledged in that partition */
} tally_t;

static tally_t tallies[SLOTS];
static pthread_once_t tallies_once = PTHREAD_ONCE_INIT;

static void init_tallies(void) {
        for (int i = 0; i < SLOTS; i++)
                pthread_mutex_init(&tallies[i].lock, NULL);
}

static int grow(tally_t *tally, int32_t partition) {
        int32_t count = partition + 1;
        partition_ends_t *ends = realloc(tally->ends, (size_t)count * sizeof(*ends));
        if (!ends)
                return 0;
        for (int32_t i = tally->partition_count; i < count; i++)
                ends[i].low_offset = ends[i].high_offset = -1;
        tally->ends = ends;
        tally->partition_count = count;
        return 1;
}

static int on_acknowledgement(rd_kafka_t *rk, rd_kafka_message_t *message, void *opaque) {
        tally_t *tally = opaque;
        int err = ERR_NO_ERROR;
        pthread_mutex_lock(&tally->lock);
        if (message->err) {
                if (tally->failed++ == 0)
                        tally->first_error = message->err;
        } else if (message->partition < 0 || message->offset < 0) {
                tally->acknowledged++; /* acknowledged without an offset (implicitly, by a later request) */
        } else if (message->partition >= tally->partition_count && !grow(tally, message->partition)) {
                err = ERR_FAIL; /* out of memory: counted as a failure, so the batch cannot pass for delivered */
                if (tally->failed++ == 0)
                        tally->first_error = ERR_FAIL;
        } else {
                partition_ends_t *ends = &tally->ends[message->partition];
                int64_t timestamp = api.message_timestamp(message, NULL);
                tally->acknowledged++;
                if (ends->low_offset < 0 || message->offset < ends->low_offset) {
                        ends->low_offset = message->offset;
                        ends->low_timestamp = timestamp;
                }
                if (message->offset > ends->high_offset) {
                        ends->high_offset = message->offset;
                        ends->high_timestamp = timestamp;
                }
        }
        pthread_mutex_unlock(&tally->lock);
        return err;
}

/* The tally and the token source a configuration names; -1 while it names none. Freed with the configuration. */
typedef struct {
        int slot;
        int token_slot;
} conf_state_t;

/* Token sources: the client each slot serves (NULL: free), and the Python function that makes the tokens. */
typedef void(python_token_f)(int slot, rd_kafka_t *rk, const char *oauthbearer_config);
static python_token_f *python_token;
static rd_kafka_t *token_clients[SLOTS];
static int token_slots_taken[SLOTS];
static pthread_mutex_t token_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_token_refresh(rd_kafka_t *rk, const char *oauthbearer_config, void *opaque) {
        int slot = -1;
        pthread_mutex_lock(&token_lock);
        for (int i = 0; i < SLOTS && slot < 0; i++)
                if (token_clients[i] == rk)
                        slot = i;
        pthread_mutex_unlock(&token_lock);
        if (slot < 0 || !python_token)
                api.set_token_failure(rk, "the provider's token source has no function for this client");
        else
                python_token(slot, rk, oauthbearer_config ? oauthbearer_config : "");
}

static int on_destroy(rd_kafka_t *rk, void *opaque) {
        int slot = (int)(intptr_t)opaque;
        pthread_mutex_lock(&token_lock);
        token_clients[slot] = NULL;
        token_slots_taken[slot] = 0;
        pthread_mutex_unlock(&token_lock);
        return ERR_NO_ERROR;
}

static int parse_slot(const char *name, const char *value, int *slot, char *errstr, size_t errstr_size) {
        char *end = NULL;
        /* librdkafka passes an empty value as NULL */
        long parsed = value && *value ? strtol(value, &end, 10) : -1;
        if (parsed < 0 || parsed >= SLOTS || *end != '\0') {
                snprintf(errstr, errstr_size, "%s must be a number from 0 to %d", name, SLOTS - 1);
                return CONF_INVALID;
        }
        *slot = (int)parsed;
        return CONF_OK;
}

static int register_conf_interceptors(rd_kafka_conf_t *conf, conf_state_t *state);

static int on_new(rd_kafka_t *rk, const rd_kafka_conf_t *conf, void *opaque, char *errstr, size_t errstr_size) {
        conf_state_t *state = opaque;
        int err = ERR_NO_ERROR;
        if (state->token_slot >= 0) {
                pthread_mutex_lock(&token_lock);
                token_clients[state->token_slot] = rk;
                pthread_mutex_unlock(&token_lock);
                err = api.add_on_destroy(rk, INTERCEPTOR, on_destroy, (void *)(intptr_t)state->token_slot);
        }
        if (!err && state->slot >= 0)
                err = api.add_on_acknowledgement(rk, INTERCEPTOR, on_acknowledgement, &tallies[state->slot]);
        return err;
}

static int on_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *errstr,
                       size_t errstr_size, void *opaque) {
        conf_state_t *state = opaque;
        if (!strcmp(name, PROPERTY))
                return parse_slot(name, value, &state->slot, errstr, errstr_size);
        if (strcmp(name, TOKEN_PROPERTY))
                return CONF_UNKNOWN;
        if (parse_slot(name, value, &state->token_slot, errstr, errstr_size) != CONF_OK)
                return CONF_INVALID;
        api.set_token_refresh_cb(conf, on_token_refresh);
        return CONF_OK;
}

static int on_conf_dup(rd_kafka_conf_t *new_conf, const rd_kafka_conf_t *old_conf, size_t filter_count,
                       const char **filter, void *opaque) {
        conf_state_t *copy = malloc(sizeof(*copy));
        if (!copy)
                return ERR_FAIL;
        *copy = *(conf_state_t *)opaque;
        return register_conf_interceptors(new_conf, copy);
}

static int on_conf_destroy(void *opaque) {
        free(opaque);
        return ERR_NO_ERROR;
}

static int register_conf_interceptors(rd_kafka_conf_t *conf, conf_state_t *state) {
        int err = api.add_on_conf_set(conf, INTERCEPTOR, on_conf_set, state);
        if (!err)
                err = api.add_on_conf_dup(conf, INTERCEPTOR, on_conf_dup, state);
        if (!err)
                err = api.add_on_conf_destroy(conf, INTERCEPTOR, on_conf_destroy, state);
        if (!err)
                err = api.add_on_new(conf, INTERCEPTOR, on_new, state);
        return err;
}

static int find_api(void *caller, char *errstr, size_t errstr_size) {
        Dl_info info;
        void *library;
        if (api.message_timestamp)
                return 1;
        if (!dladdr(caller, &info) || !info.dli_fname || !(library = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD))) {
                snprintf(errstr, errstr_size, "%s: cannot find the librdkafka that loaded it", INTERCEPTOR);
                return 0;
        }
        *(void **)&api.add_on_conf_set = dlsym(library, "rd_kafka_conf_interceptor_add_on_conf_set");
        *(void **)&api.add_on_conf_dup = dlsym(library, "rd_kafka_conf_interceptor_add_on_conf_dup");
        *(void **)&api.add_on_conf_destroy = dlsym(library, "rd_kafka_conf_interceptor_add_on_conf_destroy");
        *(void **)&api.add_on_new = dlsym(library, "rd_kafka_conf_interceptor_add_on_new");
        *(void **)&api.add_on_acknowledgement = dlsym(library, "rd_kafka_interceptor_add_on_acknowledgement");
        *(void **)&api.message_timestamp = dlsym(library, "rd_kafka_message_timestamp");
        *(void **)&api.add_on_destroy = dlsym(library, "rd_kafka_interceptor_add_on_destroy");
        *(void **)&api.set_token_refresh_cb = dlsym(library, "rd_kafka_conf_set_oauthbearer_token_refresh_cb");
        *(void **)&api.set_token = dlsym(library, "rd_kafka_oauthbearer_set_token");
        *(void **)&api.set_token_failure = dlsym(library, "rd_kafka_oauthbearer_set_token_failure");
        if (!api.add_on_conf_set || !api.add_on_conf_dup || !api.add_on_conf_destroy || !api.add_on_new ||
            !api.add_on_acknowledgement || !api.add_on_destroy || !api.set_token_refresh_cb || !api.set_token ||
            !api.set_token_failure || !api.message_timestamp) {
                api.message_timestamp = NULL;
                snprintf(errstr, errstr_size, "%s: %s lacks the interceptor API", INTERCEPTOR, info.dli_fname);
                return 0;
        }
        return 1;
}

int conf_init(rd_kafka_conf_t *conf, void **plugin_opaque, char *errstr, size_t errstr_size) {
        conf_state_t *state;
        pthread_once(&tallies_once, init_tallies);
        if (!find_api(__builtin_return_address(0), errstr, errstr_size))
                return ERR_FAIL;
        state = malloc(sizeof(*state));
        if (!state)
                return ERR_FAIL;
        state->slot = state->token_slot = -1;
        *plugin_opaque = NULL;
        return register_conf_interceptors(conf, state);
}

/* For Python (ctypes). */

void delivery_tally_reset(int slot) {
        tally_t *tally = &tallies[slot];
        pthread_once(&tallies_once, init_tallies);
        pthread_mutex_lock(&tally->lock);
        tally->acknowledged = tally->failed = 0;
        tally->first_error = 0;
        free(tally->ends);
        tally->ends = NULL;
        tally->partition_count = 0;
        pthread_mutex_unlock(&tally->lock);
}

/* counts: acknowledged, failed, first error; returns the number of partition entries. */
int32_t delivery_tally_counts(int slot, int64_t counts[3]) {
        tally_t *tally = &tallies[slot];
        int32_t partition_count;
        pthread_mutex_lock(&tally->lock);
        counts[0] = tally->acknowledged;
        counts[1] = tally->failed;
        counts[2] = tally->first_error;
        partition_count = tally->partition_count;
        pthread_mutex_unlock(&tally->lock);
        return partition_count;
}

/* ends: low offset, high offset, low offset's timestamp, high offset's timestamp; returns 0 for a partition
 * without an acknowledged message. */
int delivery_tally_partition(int slot, int32_t partition, int64_t ends[4]) {
        tally_t *tally = &tallies[slot];
        int found = 0;
        pthread_mutex_lock(&tally->lock);
        if (partition >= 0 && partition < tally->partition_count && tally->ends[partition].low_offset >= 0) {
                partition_ends_t *entry = &tally->ends[partition];
                ends[0] = entry->low_offset;
                ends[1] = entry->high_offset;
                ends[2] = entry->low_timestamp;
                ends[3] = entry->high_timestamp;
                found = 1;
        }
        pthread_mutex_unlock(&tally->lock);
        return found;
}

/* Token sources, for Python (ctypes): the function that makes tokens, a free slot (-1: none), and the answers. */

void token_source_set_function(python_token_f *function) {
        python_token = function;
}

int token_source_take(void) {
        int slot = -1;
        pthread_mutex_lock(&token_lock);
        for (int i = 0; i < SLOTS && slot < 0; i++)
                if (!token_slots_taken[i])
                        slot = i;
        if (slot >= 0)
                token_slots_taken[slot] = 1;
        pthread_mutex_unlock(&token_lock);
        return slot;
}

/* For a slot whose client was never made (librdkafka frees the others when it destroys the client). */
void token_source_release(int slot) {
        pthread_mutex_lock(&token_lock);
        if (!token_clients[slot])
                token_slots_taken[slot] = 0;
        pthread_mutex_unlock(&token_lock);
}

int token_source_set_token(rd_kafka_t *rk, const char *token, int64_t lifetime_ms, const char *principal,
                           const char **extensions, size_t extension_count, char *errstr, size_t errstr_size) {
        return api.set_token(rk, token, lifetime_ms, principal, extensions, extension_count, errstr, errstr_size);
}

int token_source_fail(rd_kafka_t *rk, const char *reason) {
        return api.set_token_failure(rk, reason);
}
