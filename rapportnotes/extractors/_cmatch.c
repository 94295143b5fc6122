/*
 * _cmatch: the inner loop of rapportnotes' anchor-driven token-pattern matcher, in C.
 *
 * Why: the pure-Python engine in fast_matcher.py spends ~2 us of interpreter time per
 * anchor occurrence and per pattern tried, which is 10x the cost of tokenizing the text.
 * This module runs the very same algorithm (see FastMatcher.match/_walk) over flat tables
 * built by fast_matcher.FastMatcher._engine() and token columns held in a uint64 buffer.
 * It has no dependency beyond the Python C API (buffers, no numpy headers); if it cannot be
 * compiled the Python engine is used and results are the same.
 *
 * Tables (all little buffers owned by the Python object that built the engine):
 *   sets      uint64 values of every value set, each set sorted; set_off/set_len (int64)
 *   checks    int64 triples (col, kind, arg): kind 0 value in set[arg], 1 not in set[arg],
 *             3 value == arg (flags, computed regex columns)
 *   tokens    int64 quads (lo, hi, check_off, n_checks): a pattern token with its repeat range
 *   patterns  int64 8-tuples (anchor_check_off, anchor_n, left_off, n_left, right_off,
 *             n_right, need_set or -1, key index); left tokens are stored nearest-first
 *   keys      uint64 match ids, one per pattern
 *   plist     int64 pattern indices (candidate lists point into it)
 *   groups    uint64 anchor hashes; group_free int64 pairs (off, len) into plist;
 *             group_nb int64 pairs (off, len) into nb_cols: the (side, col) pairs indexed
 *   nb        neighbour lists: entries (value uint64) + int64 5-tuples
 *             (group, side, col, plist_off, plist_len)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t *keys;
    int64_t *vals;
    uint8_t *used;
    int64_t mask;
} Table;

static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static int table_init(Table *t, int64_t n) {
    int64_t cap = 8;
    while (cap < 2 * n + 2) cap <<= 1;
    t->keys = calloc((size_t)cap, sizeof(uint64_t));
    t->vals = calloc((size_t)cap, sizeof(int64_t));
    t->used = calloc((size_t)cap, 1);
    t->mask = cap - 1;
    return (t->keys && t->vals && t->used) ? 0 : -1;
}

static void table_free(Table *t) {
    free(t->keys);
    free(t->vals);
    free(t->used);
    t->keys = NULL;
    t->vals = NULL;
    t->used = NULL;
}

/* insert (key -> val); keys may repeat only with the caller's own disambiguation */
static void table_put(Table *t, uint64_t key, int64_t val) {
    int64_t i = (int64_t)(mix(key) & (uint64_t)t->mask);
    while (t->used[i]) i = (i + 1) & t->mask;
    t->used[i] = 1;
    t->keys[i] = key;
    t->vals[i] = val;
}

typedef struct {
    PyObject_HEAD
    PyObject *owner;           /* tuple of bytes objects keeping the buffers alive */
    const uint64_t *sets;
    const int64_t *set_off, *set_len;
    const int64_t *checks, *tokens, *patterns, *plist;
    const uint64_t *keys;
    const uint64_t *groups;
    const int64_t *group_free, *group_nb, *nb_cols;
    const uint64_t *nb_values;
    const int64_t *nb_info;
    int64_t n_groups, n_nb, n_cols;
    Table group_index;         /* anchor hash -> group */
    Table set_index;           /* mix(value, set) -> set id; membership of larger sets */
    /* "need" sets (a second required word anywhere in the sentence): each distinct set gets
     * a bit; need_bit[pattern] is its bit or -1; need_by_value maps a word to the list
     * need_list[off..off+len) of the bits of the sets holding it */
    int64_t *need_bit;
    int64_t n_need, need_words;
    Table need_by_value;       /* value -> index into need_ptr */
    int64_t *need_ptr;         /* pairs (off, len) into need_list */
    int64_t *need_list;
    Table nb_index;            /* mix(value, group, side, col) -> nb entry (chained by probe) */
} Engine;

#define SMALL_SET 4

static uint64_t set_key(uint64_t v, int64_t set) {
    return v ^ ((uint64_t)(set + 1) * 0x9E3779B97F4A7C15ULL);
}

/* membership: a scan for small sets, else one probe sequence in a table of (value, set)
 * pairs; the table stores the pair's key and the set id, and the value is re-checked
 * against the set's sorted values only on a key match (so hash collisions cannot lie) */
static int in_set(const Engine *en, int64_t set, uint64_t v) {
    const uint64_t *a = en->sets + en->set_off[set];
    int64_t n = en->set_len[set];
    if (n <= SMALL_SET) {
        for (int64_t k = 0; k < n; k++)
            if (a[k] == v) return 1;
        return 0;
    }
    const Table *t = &en->set_index;
    uint64_t key = set_key(v, set);
    int64_t i = (int64_t)(mix(key) & (uint64_t)t->mask);
    while (t->used[i]) {
        if (t->keys[i] == key && t->vals[i] >= 0) {
            int64_t x = t->vals[i];
            if (x >> 32 == set && a[x & 0xffffffff] == v) return 1;
        }
        i = (i + 1) & t->mask;
    }
    return 0;
}

static int ok(const Engine *en, const uint64_t *cols, int64_t n, int64_t off, int64_t count,
              int64_t j) {
    for (int64_t c = 0; c < count; c++) {
        const int64_t *chk = en->checks + 3 * (off + c);
        uint64_t v = cols[chk[0] * n + j];
        switch (chk[1]) {
        case 0: if (!in_set(en, chk[2], v)) return 0; break;
        case 1: if (in_set(en, chk[2], v)) return 0; break;
        default: if (v != (uint64_t)chk[2]) return 0; break;
        }
    }
    return 1;
}

typedef struct {
    int64_t *a;
    int64_t len, cap;
} Vec;

static int vec_push(Vec *v, int64_t x) {
    if (v->len == v->cap) {
        int64_t cap = v->cap ? 2 * v->cap : 16;
        int64_t *a = realloc(v->a, (size_t)cap * sizeof(int64_t));
        if (!a) return -1;
        v->a = a;
        v->cap = cap;
    }
    v->a[v->len++] = x;
    return 0;
}

/* Positions reachable after matching n_tok tokens from `first` in direction `step`
 * without reaching `stop` (exclusive). Result in *out (deduplicated with `stamp`). */
static int walk(const Engine *en, const uint64_t *cols, int64_t n, int64_t tok_off,
                int64_t n_tok, int64_t first, int64_t stop, int64_t step, Vec *out,
                Vec *tmp, int64_t *stamp, int64_t *epoch) {
    out->len = 0;
    if (vec_push(out, first) < 0) return -1;
    for (int64_t t = 0; t < n_tok; t++) {
        const int64_t *tok = en->tokens + 4 * (tok_off + t);
        int64_t lo = tok[0], hi = tok[1], coff = tok[2], ccount = tok[3];
        tmp->len = 0;
        (*epoch)++;
        for (int64_t f = 0; f < out->len; f++) {
            int64_t q = out->a[f], k = 0;
            for (;;) {
                if (k >= lo) {
                    /* stamp is indexed by position + 1 (a left walk can reach -1) */
                    if (stamp[q + 1] != *epoch) {
                        stamp[q + 1] = *epoch;
                        if (vec_push(tmp, q) < 0) return -1;
                    }
                }
                if (k >= hi || q == stop) break;
                if (!ok(en, cols, n, coff, ccount, q)) break;
                q += step;
                k++;
            }
        }
        if (tmp->len == 0) {
            out->len = 0;
            return 0;
        }
        Vec swap = *out;
        *out = *tmp;
        *tmp = swap;
    }
    return 0;
}

/* the bits of the need sets present in sentence [s, e) */
static void need_bits(const Engine *en, const uint64_t *lowers, int64_t s, int64_t e,
                      uint64_t *bits) {
    memset(bits, 0, sizeof(uint64_t) * (size_t)en->need_words);
    const Table *t = &en->need_by_value;
    for (int64_t j = s; j < e; j++) {
        uint64_t v = lowers[j];
        int64_t i = (int64_t)(mix(v) & (uint64_t)t->mask);
        while (t->used[i]) {
            if (t->keys[i] == v) {
                const int64_t *pl = en->need_ptr + 2 * t->vals[i];
                for (int64_t k = 0; k < pl[1]; k++) {
                    int64_t b = en->need_list[pl[0] + k];
                    bits[b >> 6] |= 1ULL << (b & 63);
                }
                break;
            }
            i = (i + 1) & t->mask;
        }
    }
}

typedef struct {
    Vec keys, starts, ends;
} Found;

static int try_pattern(const Engine *en, const uint64_t *cols, int64_t n, int64_t pat_i,
                       int64_t i, int64_t s, int64_t e, Found *out, Vec *starts, Vec *ends,
                       Vec *tmp, int64_t *stamp, int64_t *epoch, const uint64_t *bits) {
    const int64_t *p = en->patterns + 8 * pat_i;
    int64_t nb = en->need_bit[pat_i];
    /* a second required word must occur somewhere in the sentence */
    if (nb >= 0 && !((bits[nb >> 6] >> (nb & 63)) & 1ULL)) return 0;
    if (p[1] && !ok(en, cols, n, p[0], p[1], i)) return 0;
    if (p[3]) {
        if (walk(en, cols, n, p[2], p[3], i - 1, s - 1, -1, starts, tmp, stamp, epoch) < 0)
            return -1;
        if (!starts->len) return 0;
        for (int64_t k = 0; k < starts->len; k++) starts->a[k] += 1;
    } else {
        starts->len = 0;
        if (vec_push(starts, i) < 0) return -1;
    }
    if (p[5]) {
        if (walk(en, cols, n, p[4], p[5], i + 1, e, 1, ends, tmp, stamp, epoch) < 0)
            return -1;
        if (!ends->len) return 0;
    } else {
        ends->len = 0;
        if (vec_push(ends, i + 1) < 0) return -1;
    }
    int64_t key = (int64_t)en->keys[p[7]];
    for (int64_t a = 0; a < starts->len; a++) {
        for (int64_t b = 0; b < ends->len; b++) {
            if (vec_push(&out->keys, key) < 0 || vec_push(&out->starts, starts->a[a]) < 0
                || vec_push(&out->ends, ends->a[b]) < 0)
                return -1;
        }
    }
    return 0;
}

static int64_t group_of(const Engine *en, uint64_t h) {
    const Table *t = &en->group_index;
    int64_t i = (int64_t)(mix(h) & (uint64_t)t->mask);
    while (t->used[i]) {
        if (t->keys[i] == h) return t->vals[i];
        i = (i + 1) & t->mask;
    }
    return -1;
}

static uint64_t nb_key(uint64_t value, int64_t group, int64_t side, int64_t col) {
    return mix(value) ^ mix(((uint64_t)group << 16) ^ ((uint64_t)(side + 1) << 8)
                            ^ (uint64_t)col ^ 0x5bd1e995ULL);
}

static int64_t nb_of(const Engine *en, uint64_t value, int64_t group, int64_t side,
                     int64_t col) {
    const Table *t = &en->nb_index;
    uint64_t k = nb_key(value, group, side, col);
    int64_t i = (int64_t)(mix(k) & (uint64_t)t->mask);
    while (t->used[i]) {
        if (t->keys[i] == k) {
            int64_t x = t->vals[i];
            const int64_t *info = en->nb_info + 5 * x;
            if (en->nb_values[x] == value && info[0] == group && info[1] == side
                && info[2] == col)
                return x;
        }
        i = (i + 1) & t->mask;
    }
    return -1;
}

static const char *buf_of(PyObject *b, Py_ssize_t *len) {
    if (!PyBytes_Check(b)) {
        PyErr_SetString(PyExc_TypeError, "engine tables must be bytes");
        return NULL;
    }
    *len = PyBytes_GET_SIZE(b);
    return PyBytes_AS_STRING(b);
}

static void free_needs(Engine *self) {
    free(self->need_bit);
    free(self->need_ptr);
    free(self->need_list);
    table_free(&self->need_by_value);
    self->need_bit = NULL;
    self->need_ptr = NULL;
    self->need_list = NULL;
}

typedef struct { uint64_t value; int64_t bit; } NeedPair;

static int pair_cmp(const void *a, const void *b) {
    const NeedPair *x = a, *y = b;
    if (x->value != y->value) return x->value < y->value ? -1 : 1;
    return x->bit < y->bit ? -1 : (x->bit > y->bit);
}

/* number the distinct need sets of the patterns and index their words */
static int build_needs(Engine *self, int64_t n_patterns, int64_t n_sets) {
    free_needs(self);
    int64_t *bit_of_set = malloc(sizeof(int64_t) * (size_t)(n_sets + 1));
    self->need_bit = malloc(sizeof(int64_t) * (size_t)(n_patterns + 1));
    if (!bit_of_set || !self->need_bit) {
        free(bit_of_set);
        return -1;
    }
    for (int64_t k = 0; k < n_sets; k++) bit_of_set[k] = -1;
    int64_t n_need = 0, n_pairs = 0;
    for (int64_t k = 0; k < n_patterns; k++) {
        int64_t set = self->patterns[8 * k + 6];
        if (set < 0 || set >= n_sets) {
            self->need_bit[k] = -1;
            continue;
        }
        if (bit_of_set[set] < 0) {
            bit_of_set[set] = n_need++;
            n_pairs += self->set_len[set];
        }
        self->need_bit[k] = bit_of_set[set];
    }
    self->n_need = n_need;
    self->need_words = (n_need + 63) / 64;
    NeedPair *pairs = malloc(sizeof(NeedPair) * (size_t)(n_pairs + 1));
    self->need_list = malloc(sizeof(int64_t) * (size_t)(n_pairs + 1));
    self->need_ptr = malloc(sizeof(int64_t) * 2 * (size_t)(n_pairs + 1));
    if (!pairs || !self->need_list || !self->need_ptr) {
        free(pairs);
        free(bit_of_set);
        return -1;
    }
    int64_t np_ = 0;
    for (int64_t set = 0; set < n_sets; set++) {
        if (bit_of_set[set] < 0) continue;
        const uint64_t *a = self->sets + self->set_off[set];
        for (int64_t j = 0; j < self->set_len[set]; j++) {
            pairs[np_].value = a[j];
            pairs[np_].bit = bit_of_set[set];
            np_++;
        }
    }
    qsort(pairs, (size_t)np_, sizeof(NeedPair), pair_cmp);
    int64_t n_values = 0;
    for (int64_t k = 0; k < np_; k++)
        if (k == 0 || pairs[k].value != pairs[k - 1].value) n_values++;
    if (table_init(&self->need_by_value, n_values) < 0) {
        free(pairs);
        free(bit_of_set);
        return -1;
    }
    int64_t v = -1;
    for (int64_t k = 0; k < np_; k++) {
        if (k == 0 || pairs[k].value != pairs[k - 1].value) {
            v++;
            self->need_ptr[2 * v] = k;
            self->need_ptr[2 * v + 1] = 0;
            table_put(&self->need_by_value, pairs[k].value, v);
        }
        self->need_list[k] = pairs[k].bit;
        self->need_ptr[2 * v + 1]++;
    }
    free(pairs);
    free(bit_of_set);
    return 0;
}

static void Engine_dealloc(Engine *self) {
    free_needs(self);
    table_free(&self->set_index);
    table_free(&self->group_index);
    table_free(&self->nb_index);
    Py_XDECREF(self->owner);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

#define N_TABLES 15

static int Engine_init(Engine *self, PyObject *args, PyObject *kwds) {
    PyObject *tables;
    long long n_cols;
    if (!PyArg_ParseTuple(args, "O!L", &PyTuple_Type, &tables, &n_cols)) return -1;
    if (PyTuple_GET_SIZE(tables) != N_TABLES) {
        PyErr_SetString(PyExc_ValueError, "wrong number of engine tables");
        return -1;
    }
    const char *p[N_TABLES];
    Py_ssize_t len[N_TABLES];
    for (int k = 0; k < N_TABLES; k++) {
        p[k] = buf_of(PyTuple_GET_ITEM(tables, k), &len[k]);
        if (!p[k]) return -1;
    }
    Py_INCREF(tables);
    Py_XSETREF(self->owner, tables);
    self->sets = (const uint64_t *)p[0];
    self->set_off = (const int64_t *)p[1];
    self->set_len = (const int64_t *)p[2];
    self->checks = (const int64_t *)p[3];
    self->tokens = (const int64_t *)p[4];
    self->patterns = (const int64_t *)p[5];
    self->keys = (const uint64_t *)p[6];
    self->plist = (const int64_t *)p[7];
    self->groups = (const uint64_t *)p[8];
    self->group_free = (const int64_t *)p[9];
    self->group_nb = (const int64_t *)p[10];
    self->nb_cols = (const int64_t *)p[11];
    self->nb_values = (const uint64_t *)p[12];
    self->nb_info = (const int64_t *)p[13];
    (void)p[14];
    self->n_groups = len[8] / 8;
    self->n_nb = len[12] / 8;
    self->n_cols = n_cols;
    table_free(&self->group_index);
    table_free(&self->nb_index);
    table_free(&self->set_index);
    int64_t n_sets = len[1] / 8, n_set_values = 0;
    for (int64_t k = 0; k < n_sets; k++)
        if (self->set_len[k] > SMALL_SET) n_set_values += self->set_len[k];
    if (table_init(&self->group_index, self->n_groups) < 0
        || table_init(&self->nb_index, self->n_nb) < 0
        || table_init(&self->set_index, n_set_values) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    for (int64_t k = 0; k < n_sets; k++) {
        if (self->set_len[k] <= SMALL_SET) continue;
        const uint64_t *a = self->sets + self->set_off[k];
        for (int64_t j = 0; j < self->set_len[k]; j++)
            table_put(&self->set_index, set_key(a[j], k), (k << 32) | j);
    }
    for (int64_t g = 0; g < self->n_groups; g++) table_put(&self->group_index, self->groups[g], g);
    if (build_needs(self, len[5] / 8 / 8, n_sets) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    for (int64_t x = 0; x < self->n_nb; x++) {
        const int64_t *info = self->nb_info + 5 * x;
        table_put(&self->nb_index, nb_key(self->nb_values[x], info[0], info[1], info[2]), x);
    }
    return 0;
}

static PyObject *vec_bytes(const Vec *v) {
    return PyBytes_FromStringAndSize(v->len ? (const char *)v->a : "",
                                     (Py_ssize_t)(v->len * 8));
}

/* match(positions, sent_lo, sent_hi, cols) -> (keys, starts, ends) as bytes of 64-bit ints
 * positions/sent_lo/sent_hi: int64 buffers of equal length; cols: uint64 buffer holding
 * n_cols columns of n tokens each, column-major (column c at offset c * n). */
static PyObject *Engine_match(Engine *self, PyObject *args) {
    Py_buffer pos, lo, hi, cols;
    if (!PyArg_ParseTuple(args, "y*y*y*y*", &pos, &lo, &hi, &cols)) return NULL;
    PyObject *out = NULL;
    int64_t *stamp = NULL;
    Vec starts = {0}, ends = {0}, tmp = {0};
    Found found = {{0}, {0}, {0}};
    uint64_t *bits = NULL;
    int failed = 0;
    int64_t npos = pos.len / 8;
    int64_t n = self->n_cols ? (int64_t)(cols.len / 8 / self->n_cols) : 0;
    if (lo.len != pos.len || hi.len != pos.len || n * self->n_cols * 8 != cols.len) {
        PyErr_SetString(PyExc_ValueError, "match: buffer sizes disagree");
        goto done;
    }
    const int64_t *P = pos.buf, *LO = lo.buf, *HI = hi.buf;
    const uint64_t *C = cols.buf;
    for (int64_t k = 0; k < npos; k++) {
        if (P[k] < 0 || P[k] >= n || LO[k] < 0 || HI[k] > n || LO[k] > P[k] || P[k] >= HI[k]) {
            PyErr_SetString(PyExc_ValueError, "match: position outside its sentence");
            goto done;
        }
    }
    stamp = calloc((size_t)n + 2, sizeof(int64_t));
    if (!stamp) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t epoch = 0, bits_for = -1;
    bits = calloc((size_t)self->need_words + 1, sizeof(uint64_t));
    if (!bits) {
        failed = 1;
        goto done;
    }
    for (int64_t k = 0; k < npos; k++) {
        int64_t i = P[k], s = LO[k], e = HI[k];
        int64_t g = group_of(self, C[i]); /* column 0 is LOWER */
        if (g < 0) continue;
        if (s != bits_for) { /* the sentence's need bits, computed once per sentence */
            need_bits(self, C, s, e, bits);
            bits_for = s;
        }
        const int64_t *fr = self->group_free + 2 * g;
        for (int64_t f = 0; f < fr[1]; f++) {
            if (try_pattern(self, C, n, self->plist[fr[0] + f], i, s, e, &found, &starts,
                            &ends, &tmp, stamp, &epoch, bits) < 0) {
                failed = 1;
                goto done;
            }
        }
        const int64_t *nb = self->group_nb + 2 * g;
        for (int64_t c = 0; c < nb[1]; c++) {
            int64_t side = self->nb_cols[2 * (nb[0] + c)], col = self->nb_cols[2 * (nb[0] + c) + 1];
            int64_t j = i + side;
            if (side > 0 ? j >= e : j < s) continue;
            int64_t x = nb_of(self, C[col * n + j], g, side, col);
            if (x < 0) continue;
            const int64_t *info = self->nb_info + 5 * x;
            for (int64_t f = 0; f < info[4]; f++) {
                if (try_pattern(self, C, n, self->plist[info[3] + f], i, s, e, &found,
                                &starts, &ends, &tmp, stamp, &epoch, bits) < 0) {
                    failed = 1;
                    goto done;
                }
            }
        }
    }
    out = Py_BuildValue("(NNN)", vec_bytes(&found.keys), vec_bytes(&found.starts),
                        vec_bytes(&found.ends));
done:
    if (failed && !PyErr_Occurred()) PyErr_NoMemory();
    free(stamp);
    free(starts.a);
    free(ends.a);
    free(tmp.a);
    free(found.keys.a);
    free(found.starts.a);
    free(found.ends.a);
    free(bits);
    PyBuffer_Release(&pos);
    PyBuffer_Release(&lo);
    PyBuffer_Release(&hi);
    PyBuffer_Release(&cols);
    return out;
}

static PyMethodDef Engine_methods[] = {
    {"match", (PyCFunction)Engine_match, METH_VARARGS,
     "match(positions, sent_lo, sent_hi, cols) -> (keys, starts, ends) as int64 bytes"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject EngineType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "rapportnotes.extractors._cmatch.Engine",
    .tp_basicsize = sizeof(Engine),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Compiled anchor-driven matcher tables (built by FastMatcher)",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Engine_init,
    .tp_dealloc = (destructor)Engine_dealloc,
    .tp_methods = Engine_methods,
};


/* ------------------------------------------------------------------------------------------
 * context(): the per-sentence ConText logic of context.ContextAnnotator (_hits, _modifiers,
 * _experiencer and helpers), ported one to one. Inputs are flat int64 buffers built by
 * ContextAnnotator._process_c; see there for their layout. Output: bytes holding, per cue,
 * (negated, hypothetical, historical, uncertain, kind, value) as int64:
 *   kind 0: the cue names its own experiencer; 1: value = index of the actor/agent rule;
 *   2: a client's name stands before it; 3: implicit subject, value = index of the cue whose
 *   label decides the default experiencer.
 */
enum { F_PUNCT = 1, F_TITLE = 2, F_SPACE = 4, F_POSS = 8, F_APOS_S = 16, F_DET = 32,
       F_SUBJ = 64, F_QUOTE = 128, F_APOS = 256, F_OPEN = 512, F_CLOSE = 1024,
       F_LAST_S = 2048, F_NAME = 4096, F_LONG = 8192 };
enum { C_NEG = 0, C_HYP = 1, C_HIST = 2, C_UNC = 3, C_TERM = 4, C_PSEUDO = 5, C_ACTOR = 6,
       C_BOUNDARY = 7, C_AGENT = 8 };
enum { D_FWD = 1, D_BACK = 2 };
#define RULE_FIELDS 5 /* category, direction bits, max_scope, is_report, cancels mask */
#define CUE_FIELDS 7  /* start, end, label, has_kb, sent_s, sent_e, doc_end */

typedef struct { int64_t rule, start, end; } Hit;

static const int64_t *g_rules; /* for the qsort comparator (rule order = rule index) */

static int hit_cmp(const void *a, const void *b) {
    const Hit *x = a, *y = b;
    int64_t lx = x->start - x->end, ly = y->start - y->end;
    if (lx != ly) return lx < ly ? -1 : 1;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->rule != y->rule) return x->rule < y->rule ? -1 : 1;
    return 0;
}

typedef struct { int64_t start, end; } Region;

typedef struct {
    const uint64_t *flags;
    const int64_t *rules;
    const uint64_t *applies;
    const int64_t *cues;
    const uint64_t *repair;   /* bitmask over labels: label starts with "repair." */
    Hit *kept;                /* ranked, overlap-free hits of the sentence */
    int64_t n_kept;
    uint8_t *removed;         /* cancelled by a pseudo-trigger */
    Region *regions;          /* quotations first, then parentheses */
    int64_t n_quotes, n_regions;
} Sent;

#define CAT(h) (S->rules[RULE_FIELDS * (h)->rule])
#define DIR(h) (S->rules[RULE_FIELDS * (h)->rule + 1])
#define SCOPE(h) (S->rules[RULE_FIELDS * (h)->rule + 2])
#define REPORT(h) (S->rules[RULE_FIELDS * (h)->rule + 3])
#define CANCELS(h) (S->rules[RULE_FIELDS * (h)->rule + 4])
#define APPLIES(h, label) ((S->applies[(h)->rule] >> (label)) & 1ULL)

static int region_of(const Sent *S, int64_t pos, int quotes_only, Region *out) {
    int64_t n = quotes_only ? S->n_quotes : S->n_regions;
    for (int64_t k = 0; k < n; k++) {
        if (S->regions[k].start <= pos && pos < S->regions[k].end) {
            *out = S->regions[k];
            return 1;
        }
    }
    return 0;
}

static int is_term_end(const Sent *S, int64_t x, int boundary_too) {
    for (int64_t k = 0; k < S->n_kept; k++) {
        const Hit *h = &S->kept[k];
        int64_t c = CAT(h);
        if ((c == C_TERM || (boundary_too && c == C_BOUNDARY)) && h->end == x) return 1;
    }
    return 0;
}

static int is_report_end(const Sent *S, int64_t x) {
    for (int64_t k = 0; k < S->n_kept; k++) {
        const Hit *h = &S->kept[k];
        if (CAT(h) == C_BOUNDARY && REPORT(h) && h->end == x) return 1;
    }
    return 0;
}

static void modifiers(const Sent *S, const int64_t *cue, int64_t s, int64_t e, int64_t *flags) {
    int64_t cs = cue[0], ce = cue[1], label = cue[2];
    Region cue_region = {-1, -1}, region;
    int has_cue_region = region_of(S, cs, 0, &cue_region);
    for (int cat = 0; cat < 4; cat++) {
        int found = 0;
        for (int64_t k = 0; k < S->n_kept && !found; k++) {
            const Hit *t = &S->kept[k];
            if (CAT(t) != cat || S->removed[k] || !APPLIES(t, label)) continue;
            if (t->start < ce && cs < t->end) continue; /* the cue's own words */
            int64_t lo = s, hi = e;
            if (region_of(S, t->start, 0, &region)) {
                lo = region.start;
                hi = region.end;
                if (!has_cue_region || cue_region.start != region.start
                    || cue_region.end != region.end)
                    continue;
            }
            int64_t scope = SCOPE(t);
            if (t->end <= cs && (DIR(t) & D_FWD)) {
                int64_t end = hi;
                for (int64_t j = 0; j < S->n_kept; j++) {
                    const Hit *x = &S->kept[j];
                    if (CAT(x) == C_TERM && x->start >= t->end && x->start < end) end = x->start;
                }
                if (scope && t->end + scope < end) end = t->end + scope;
                found = cs < end;
            } else if (ce <= t->start && (DIR(t) & D_BACK)) {
                int64_t start = lo;
                for (int64_t j = 0; j < S->n_kept; j++) {
                    const Hit *x = &S->kept[j];
                    if (CAT(x) == C_TERM && x->end <= t->start && x->end > start) start = x->end;
                }
                if (scope && t->start - scope > start) start = t->start - scope;
                found = ce > start;
            }
        }
        flags[cat] = found;
    }
}

/* agent right after the cue: rule index or -1 */
static int64_t agent_after(const Sent *S, const int64_t *cue) {
    int64_t cs = cue[0], ce = cue[1], label = cue[2], doc_end = cue[6];
    for (int64_t k = 0; k < S->n_kept; k++) {
        const Hit *a = &S->kept[k];
        if (CAT(a) != C_AGENT || !APPLIES(a, label)) continue;
        if (a->end < doc_end && (S->flags[a->end] & F_APOS_S)) continue;
        int64_t limit = SCOPE(a) ? SCOPE(a) : 4;
        if (cs < a->start && a->start <= ce + limit && a->end > ce) {
            int blocked = 0;
            for (int64_t j = 0; j < S->n_kept; j++) {
                const Hit *x = &S->kept[j];
                if (CAT(x) == C_TERM && ce <= x->start && x->start < a->start) blocked = 1;
            }
            if (!blocked) return a->rule;
        }
    }
    return -1;
}

/* nearest subject-position actor before the cue: rule index, -2 for a name, -1 for none */
static int64_t actor_before(const Sent *S, const int64_t *cue, int64_t s) {
    int64_t cs = cue[0], doc_end = cue[6];
    const Hit *best = NULL;
    Region r;
    for (int64_t k = 0; k < S->n_kept; k++) {
        const Hit *a = &S->kept[k];
        if (CAT(a) != C_ACTOR) continue;
        if (a->end > cs || (S->n_quotes && region_of(S, a->start, 1, &r))) continue;
        if (a->end < doc_end && (S->flags[a->end] & F_POSS)) continue;
        int64_t first = a->start;
        if (first > s && (S->flags[first - 1] & F_DET)) first -= 1;
        int subject = first == s || is_term_end(S, first, 1) || (S->flags[first - 1] & F_PUNCT)
                      || (S->flags[a->start] & F_SUBJ) || a->end == cs;
        if (!subject) continue;
        if (is_report_end(S, first) && a->end != cs) {
            int quoted = 0;
            for (int64_t q = 0; q < S->n_quotes; q++)
                if (a->end <= S->regions[q].start && S->regions[q].end <= cs) quoted = 1;
            if (quoted) continue;
        }
        if (best == NULL || a->end > best->end) best = a;
    }
    int64_t lo = best ? best->end : s;
    for (int64_t i = cs - 1; i >= lo; i--) {
        uint64_t f = S->flags[i];
        if (i > s && (f & F_TITLE) && (f & F_LONG)
            && ((S->flags[i - 1] & F_PUNCT) || is_term_end(S, i, 1)) && (f & F_NAME))
            return -2;
    }
    return best ? best->rule : -1;
}

static PyObject *context_fn(PyObject *self, PyObject *args) {
    Py_buffer fb, rb, ab, cb, gb, hb, pb;
    int implicit;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*p", &fb, &rb, &ab, &cb, &gb, &hb, &pb,
                          &implicit))
        return NULL;
    PyObject *result = NULL;
    Hit *hits = NULL;
    uint8_t *removed = NULL;
    Region *regions = NULL;
    int64_t *stack = NULL, *quotes = NULL, *actor = NULL, *out = NULL;
    int64_t n_tok = fb.len / 8, n_rules = rb.len / 8 / RULE_FIELDS;
    int64_t n_cues = cb.len / 8 / CUE_FIELDS, n_groups = gb.len / 8 / 4, n_hits = hb.len / 8 / 3;
    const int64_t *groups = gb.buf, *hin = hb.buf, *cues = cb.buf;
    if (ab.len / 8 != n_rules) {
        PyErr_SetString(PyExc_ValueError, "context: rule tables disagree");
        goto done;
    }
    for (int64_t k = 0; k < n_hits; k++) {
        if (hin[3 * k] < 0 || hin[3 * k] >= n_rules || hin[3 * k + 1] < 0
            || hin[3 * k + 2] > n_tok || hin[3 * k + 1] >= hin[3 * k + 2]) {
            PyErr_SetString(PyExc_ValueError, "context: bad trigger match");
            goto done;
        }
    }
    for (int64_t k = 0; k < n_cues; k++) {
        const int64_t *c = cues + CUE_FIELDS * k;
        if (c[4] < 0 || c[5] > n_tok || c[6] > n_tok || c[5] > c[6] || c[0] < c[4]
            || c[1] > c[5] || c[0] >= c[1] || c[2] < 0 || c[2] >= 64) {
            PyErr_SetString(PyExc_ValueError, "context: bad cue");
            goto done;
        }
    }
    for (int64_t g = 0; g < n_groups; g++) {
        const int64_t *G = groups + 4 * g;
        if (G[0] < 0 || G[1] < 1 || G[0] + G[1] > n_cues || G[2] < 0 || G[3] < 0
            || G[2] + G[3] > n_hits) {
            PyErr_SetString(PyExc_ValueError, "context: bad sentence group");
            goto done;
        }
        /* one sentence per group: its cues share the bounds, its triggers lie inside */
        const int64_t *c0 = cues + CUE_FIELDS * G[0];
        for (int64_t k = 1; k < G[1]; k++) {
            const int64_t *c = cues + CUE_FIELDS * (G[0] + k);
            if (c[4] != c0[4] || c[5] != c0[5] || c[6] != c0[6]) {
                PyErr_SetString(PyExc_ValueError, "context: cues of a group disagree");
                goto done;
            }
        }
        for (int64_t k = 0; k < G[3]; k++) {
            const int64_t *h = hin + 3 * (G[2] + k);
            if (h[1] < c0[4] || h[2] > c0[5]) {
                PyErr_SetString(PyExc_ValueError, "context: trigger outside its sentence");
                goto done;
            }
        }
    }
    hits = malloc(sizeof(Hit) * (size_t)(n_hits + 1));
    removed = calloc((size_t)n_hits + 1, 1);
    regions = malloc(sizeof(Region) * (size_t)(n_tok + 1));
    stack = malloc(sizeof(int64_t) * (size_t)(n_tok + 1));
    quotes = malloc(sizeof(int64_t) * (size_t)(n_tok + 1));
    actor = malloc(sizeof(int64_t) * (size_t)(n_cues + 1));
    out = calloc((size_t)n_cues * 6 + 1, sizeof(int64_t));
    if (!hits || !removed || !regions || !stack || !quotes || !actor || !out) {
        PyErr_NoMemory();
        goto done;
    }
    Sent S;
    S.flags = fb.buf;
    S.rules = rb.buf;
    S.applies = ab.buf;
    S.cues = cues;
    S.repair = pb.buf;
    S.regions = regions;
    g_rules = rb.buf;
    for (int64_t g = 0; g < n_groups; g++) {
        const int64_t *G = groups + 4 * g;
        const int64_t *c0 = cues + CUE_FIELDS * G[0];
        int64_t s = c0[4], e = c0[5];
        /* rank and de-overlap the sentence's triggers */
        int64_t nh = G[3];
        Hit *cand = hits;
        for (int64_t k = 0; k < nh; k++) {
            const int64_t *h = hin + 3 * (G[2] + k);
            cand[k].rule = h[0];
            cand[k].start = h[1];
            cand[k].end = h[2];
        }
        qsort(cand, (size_t)nh, sizeof(Hit), hit_cmp);
        int64_t nk = 0;
        for (int64_t k = 0; k < nh; k++) {
            Hit h = cand[k];
            int64_t cat = g_rules[RULE_FIELDS * h.rule];
            int clash = 0;
            for (int64_t j = 0; j < nk; j++) {
                const Hit *o = &cand[j];
                if (g_rules[RULE_FIELDS * o->rule] == cat && o->start < h.end && h.start < o->end
                    && (o->start != h.start || o->end != h.end)) {
                    clash = 1;
                    break;
                }
            }
            if (!clash) cand[nk++] = h; /* in place: nk <= k */
        }
        S.kept = cand;
        S.n_kept = nk;
        S.removed = removed;
        memset(removed, 0, (size_t)nk);
        for (int64_t k = 0; k < nk; k++) {
            int64_t cat = g_rules[RULE_FIELDS * cand[k].rule];
            if (cat > C_UNC) continue;
            for (int64_t j = 0; j < nk; j++) {
                const Hit *p = &cand[j];
                if (g_rules[RULE_FIELDS * p->rule] == C_PSEUDO && p->start <= cand[k].start
                    && cand[k].end <= p->end && ((g_rules[RULE_FIELDS * p->rule + 4] >> cat) & 1)) {
                    removed[k] = 1;
                    break;
                }
            }
        }
        /* quotations (pairs of quote marks) and parentheses */
        int64_t nq = 0, ns = 0, np_ = 0;
        Region *parens = regions + (n_tok / 2 + 1);
        for (int64_t i = s; i < e; i++) {
            uint64_t f = S.flags[i];
            if (f & F_QUOTE) {
                if ((f & F_APOS) && i > s && (S.flags[i - 1] & F_LAST_S) && i + 1 < e
                    && !(S.flags[i + 1] & F_PUNCT) && !(S.flags[i - 1] & F_SPACE))
                    continue;
                quotes[nq++] = i;
            } else if (f & F_OPEN) {
                stack[ns++] = i;
            } else if ((f & F_CLOSE) && ns) {
                parens[np_].start = stack[--ns];
                parens[np_].end = i + 1;
                np_++;
            }
        }
        S.n_quotes = 0;
        for (int64_t k = 0; k + 1 < nq; k += 2) {
            regions[S.n_quotes].start = quotes[k];
            regions[S.n_quotes].end = quotes[k + 1] + 1;
            S.n_quotes++;
        }
        for (int64_t k = 0; k < np_; k++) regions[S.n_quotes + k] = parens[k];
        S.n_regions = S.n_quotes + np_;
        /* the cues */
        for (int64_t k = 0; k < G[1]; k++) actor[k] = -3; /* not computed */
        for (int64_t k = 0; k < G[1]; k++) {
            const int64_t *cue = cues + CUE_FIELDS * (G[0] + k);
            int64_t *o = out + 6 * (G[0] + k);
            modifiers(&S, cue, s, e, o);
            if (cue[3]) {
                o[4] = 0;
                continue;
            }
            int64_t rule = agent_after(&S, cue);
            if (rule < 0) {
                if (actor[k] == -3) actor[k] = actor_before(&S, cue, s);
                rule = actor[k];
            }
            if (rule >= 0) {
                o[4] = 1;
                o[5] = rule;
            } else if (rule == -2) {
                o[4] = 2;
            } else {
                o[4] = 3;
                int64_t best = G[0] + k;
                if (implicit) {
                    int found = 0;
                    int64_t bs = 0, brep = 0;
                    for (int64_t j = 0; j < G[1]; j++) {
                        const int64_t *oc = cues + CUE_FIELDS * (G[0] + j);
                        if (oc[0] >= cue[0]) continue;
                        if (actor[j] == -3) actor[j] = actor_before(&S, oc, s);
                        if (actor[j] != -1) continue;
                        int64_t notrep = !((S.repair[0] >> oc[2]) & 1ULL);
                        if (!found || oc[0] < bs || (oc[0] == bs && notrep < brep)) {
                            found = 1;
                            bs = oc[0];
                            brep = notrep;
                            best = G[0] + j;
                        }
                    }
                }
                o[5] = best;
            }
        }
    }
    result = PyBytes_FromStringAndSize((const char *)out, (Py_ssize_t)(n_cues * 6 * 8));
done:
    free(hits);
    free(removed);
    free(regions);
    free(stack);
    free(quotes);
    free(actor);
    free(out);
    PyBuffer_Release(&fb);
    PyBuffer_Release(&rb);
    PyBuffer_Release(&ab);
    PyBuffer_Release(&cb);
    PyBuffer_Release(&gb);
    PyBuffer_Release(&hb);
    PyBuffer_Release(&pb);
    return result;
}

/* resolve(docs, starts, ends, rules, rule_label, rule_order, rule_excludes, label_rank)
 * -> bytes (int64) of the chosen row indices, doc by doc, each doc's in (start, end, label)
 * order. The same as CueRuler._resolve: per label the longest match wins (then the earlier
 * start, then the rule listed first); same-label overlaps and matches overlapping an
 * exclusion rule for their label are dropped. Rows of one doc must be contiguous. */
static const int64_t *r_starts, *r_ends, *r_rules, *r_order, *r_label, *r_rank;

static int keep_cmp(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    int64_t lx = r_starts[x] - r_ends[x], ly = r_starts[y] - r_ends[y];
    if (lx != ly) return lx < ly ? -1 : 1;
    if (r_starts[x] != r_starts[y]) return r_starts[x] < r_starts[y] ? -1 : 1;
    int64_t ox = r_order[r_rules[x]], oy = r_order[r_rules[y]];
    if (ox != oy) return ox < oy ? -1 : 1;
    return x < y ? -1 : (x > y);
}

static int out_cmp(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    if (r_starts[x] != r_starts[y]) return r_starts[x] < r_starts[y] ? -1 : 1;
    if (r_ends[x] != r_ends[y]) return r_ends[x] < r_ends[y] ? -1 : 1;
    int64_t lx = r_rank[r_label[r_rules[x]]], ly = r_rank[r_label[r_rules[y]]];
    if (lx != ly) return lx < ly ? -1 : 1;
    return x < y ? -1 : (x > y);
}

static PyObject *resolve_fn(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer db, sb, eb, rb, lb, ob, xb, kb;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*", &db, &sb, &eb, &rb, &lb, &ob, &xb, &kb))
        return NULL;
    PyObject *result = NULL;
    int64_t n = db.len / 8, n_rules = lb.len / 8, n_labels = kb.len / 8;
    const int64_t *docs = db.buf, *rules = rb.buf;
    const uint64_t *excl = xb.buf;
    int64_t *keep = NULL, *chosen = NULL, *blk = NULL, *out = NULL;
    if (sb.len != db.len || eb.len != db.len || rb.len != db.len || ob.len != lb.len
        || xb.len != lb.len) {
        PyErr_SetString(PyExc_ValueError, "resolve: buffer sizes disagree");
        goto done;
    }
    for (int64_t k = 0; k < n; k++) {
        int64_t lab;
        if (rules[k] < 0 || rules[k] >= n_rules
            || (lab = ((const int64_t *)lb.buf)[rules[k]]) >= n_labels || lab >= 64
            || (k && docs[k] < docs[k - 1])) {
            PyErr_SetString(PyExc_ValueError, "resolve: bad row");
            goto done;
        }
    }
    r_starts = sb.buf;
    r_ends = eb.buf;
    r_rules = rules;
    r_order = ob.buf;
    r_label = lb.buf;
    r_rank = kb.buf;
    keep = malloc(sizeof(int64_t) * (size_t)(n + 1));
    chosen = malloc(sizeof(int64_t) * (size_t)(n + 1));
    blk = malloc(sizeof(int64_t) * (size_t)(n + 1));
    out = malloc(sizeof(int64_t) * (size_t)(n + 1));
    if (!keep || !chosen || !blk || !out) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t n_out = 0;
    for (int64_t lo = 0; lo < n;) {
        int64_t hi = lo;
        while (hi < n && docs[hi] == docs[lo]) hi++;
        int64_t nk = 0, nb = 0, nc = 0;
        for (int64_t k = lo; k < hi; k++) {
            if (r_label[rules[k]] >= 0) keep[nk++] = k;
            else if (excl[rules[k]]) blk[nb++] = k;
        }
        qsort(keep, (size_t)nk, sizeof(int64_t), keep_cmp);
        for (int64_t a = 0; a < nk; a++) {
            int64_t k = keep[a], lab = r_label[rules[k]], s = r_starts[k], e = r_ends[k];
            int skip = 0;
            for (int64_t c = 0; c < nc && !skip; c++) {
                int64_t j = chosen[c];
                if (r_label[rules[j]] == lab && r_starts[j] < e && s < r_ends[j]) skip = 1;
            }
            for (int64_t b = 0; b < nb && !skip; b++) {
                int64_t j = blk[b];
                if (((excl[rules[j]] >> lab) & 1ULL) && r_starts[j] < e && s < r_ends[j])
                    skip = 1;
            }
            if (!skip) chosen[nc++] = k;
        }
        qsort(chosen, (size_t)nc, sizeof(int64_t), out_cmp);
        memcpy(out + n_out, chosen, sizeof(int64_t) * (size_t)nc);
        n_out += nc;
        lo = hi;
    }
    result = PyBytes_FromStringAndSize((const char *)out, (Py_ssize_t)(n_out * 8));
done:
    free(keep);
    free(chosen);
    free(blk);
    free(out);
    PyBuffer_Release(&db);
    PyBuffer_Release(&sb);
    PyBuffer_Release(&eb);
    PyBuffer_Release(&rb);
    PyBuffer_Release(&lb);
    PyBuffer_Release(&ob);
    PyBuffer_Release(&xb);
    PyBuffer_Release(&kb);
    return result;
}

/* factorize(values) -> (distinct values in first-seen order, inverse index), as bytes of
 * uint64 / int64: numpy's unique() sorts; an open-addressing table does it in O(n). */
static PyObject *factorize_fn(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer vb;
    if (!PyArg_ParseTuple(args, "y*", &vb)) return NULL;
    PyObject *result = NULL;
    int64_t n = vb.len / 8;
    const uint64_t *v = vb.buf;
    Table t = {0};
    uint64_t *uniq = malloc(sizeof(uint64_t) * (size_t)(n + 1));
    int64_t *inverse = malloc(sizeof(int64_t) * (size_t)(n + 1));
    if (!uniq || !inverse || table_init(&t, n) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t nu = 0;
    for (int64_t k = 0; k < n; k++) {
        int64_t i = (int64_t)(mix(v[k]) & (uint64_t)t.mask);
        while (t.used[i] && t.keys[i] != v[k]) i = (i + 1) & t.mask;
        if (!t.used[i]) {
            t.used[i] = 1;
            t.keys[i] = v[k];
            t.vals[i] = nu;
            uniq[nu++] = v[k];
        }
        inverse[k] = t.vals[i];
    }
    result = Py_BuildValue("(y#y#)", (const char *)uniq, (Py_ssize_t)(nu * 8),
                           (const char *)inverse, (Py_ssize_t)(n * 8));
done:
    table_free(&t);
    free(uniq);
    free(inverse);
    PyBuffer_Release(&vb);
    return result;
}

static PyMethodDef module_methods[] = {
    {"resolve", (PyCFunction)resolve_fn, METH_VARARGS,
     "resolve(docs, starts, ends, rules, rule_label, rule_order, rule_excludes, label_rank)"
     " -> bytes of chosen row indices"},
    {"factorize", (PyCFunction)factorize_fn, METH_VARARGS,
     "factorize(uint64 values) -> (distinct values, inverse index) as bytes"},
    {"context", (PyCFunction)context_fn, METH_VARARGS,
     "context(flags, rules, applies, cues, groups, hits, repair, implicit) -> bytes"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_cmatch", "C inner loops of the cue matcher and context rules.", -1,
    module_methods,
};

PyMODINIT_FUNC PyInit__cmatch(void) {
    if (PyType_Ready(&EngineType) < 0) return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (!m) return NULL;
    Py_INCREF(&EngineType);
    if (PyModule_AddObject(m, "Engine", (PyObject *)&EngineType) < 0) {
        Py_DECREF(&EngineType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
