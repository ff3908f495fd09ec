/* The compiled word hashing behind cleaner.lexicon.line_tokens.
 *
 * Why C: the numpy version makes some fifteen passes over every character of a batch
 * (classes, case, digits, powers, sums, line numbers), about a tenth of the time to clean
 * a text page; one pass over the characters of each str, read in place, costs a few
 * nanoseconds per character. The results are those of the numpy version, bit for bit
 * (tests/test_lexicon.py compares them): the same classes (cleaner.features' table), the
 * same lower case (cleaner.lexicon's table), the same hash.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* cleaner.features' character classes that make up words: LOWER, UPPER, CASELESS,
   DIGIT, MARK. */
enum { OTHER, LOWER, UPPER, CASELESS, DIGIT, PUNCT, SPACE, SYMBOL, MARK };
#define TABLE_SIZE 0x10000

static uint64_t mix(uint64_t x) {
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static int is_word(int cls) {
    return cls == LOWER || cls == UPPER || cls == CASELESS || cls == DIGIT || cls == MARK;
}

/* hash_words(lines, classes, lower, line_chars, word_chars, words_per_line, multiplier)
   -> (bytes of uint64 hashes, bytes of int64 line numbers) */
static PyObject *hash_words(PyObject *self, PyObject *args) {
    PyObject *lines;
    Py_buffer classes, lower;
    Py_ssize_t line_chars, word_chars, words_per_line;
    unsigned long long multiplier;
    if (!PyArg_ParseTuple(args, "O!y*y*nnnK", &PyList_Type, &lines, &classes, &lower,
                          &line_chars, &word_chars, &words_per_line, &multiplier))
        return NULL;
    PyObject *result = NULL;
    uint64_t *hashes = NULL;
    int64_t *rows = NULL;
    if (classes.len != TABLE_SIZE || lower.len != TABLE_SIZE * 4 || line_chars < 0 ||
        word_chars < 1 || word_chars > 64 || words_per_line < 0) {
        PyErr_SetString(PyExc_ValueError, "hash_words: tables or limits of the wrong size");
        goto done;
    }
    const uint8_t *class_of = (const uint8_t *)classes.buf;
    const uint32_t *lower_of = (const uint32_t *)lower.buf;
    Py_ssize_t n = PyList_GET_SIZE(lines);
    Py_ssize_t capacity = n * words_per_line, count = 0;
    hashes = PyMem_Malloc((capacity ? capacity : 1) * sizeof(uint64_t));
    rows = PyMem_Malloc((capacity ? capacity : 1) * sizeof(int64_t));
    if (!hashes || !rows) {
        PyErr_NoMemory();
        goto done;
    }
    uint64_t powers[64];
    powers[0] = 1;
    for (int i = 1; i < 64; i++)
        powers[i] = powers[i - 1] * (uint64_t)multiplier;
    for (Py_ssize_t row = 0; row < n; row++) {
        PyObject *line = PyList_GET_ITEM(lines, row);
        if (!PyUnicode_Check(line)) {
            PyErr_SetString(PyExc_TypeError, "hash_words: lines must be str");
            goto done;
        }
        int kind = PyUnicode_KIND(line);
        const void *data = PyUnicode_DATA(line);
        Py_ssize_t length = PyUnicode_GET_LENGTH(line);
        if (length > line_chars)
            length = line_chars;
        Py_ssize_t words = 0, size = 0;
        uint64_t hash = 0;
        for (Py_ssize_t i = 0; i <= length && words < words_per_line; i++) {
            int word = 0;
            uint32_t code = 0;
            if (i < length) {
                code = PyUnicode_READ(kind, data, i);
                int cls = code < TABLE_SIZE ? class_of[code]
                          : (code >= 0x1F000 ? SYMBOL : CASELESS);
                word = is_word(cls);
                if (word)
                    code = cls == DIGIT ? '0' : (code < TABLE_SIZE ? lower_of[code] : code);
            }
            if (word) {
                if (size < word_chars)
                    hash += (uint64_t)code * powers[size];
                size++;
            } else if (size) {
                uint64_t cut = (uint64_t)(size < word_chars ? size : word_chars);
                hashes[count] = mix(hash ^ (cut << 56));
                rows[count] = row;
                count++;
                words++;
                hash = 0;
                size = 0;
            }
        }
    }
    result = Py_BuildValue("(y#y#)", (const char *)hashes, count * (Py_ssize_t)sizeof(uint64_t),
                           (const char *)rows, count * (Py_ssize_t)sizeof(int64_t));
done:
    PyMem_Free(hashes);
    PyMem_Free(rows);
    PyBuffer_Release(&classes);
    PyBuffer_Release(&lower);
    return result;
}

/* find_words(hashes, table, buckets) -> bytes of int64: the index of each hash in the
   sorted table, or -1. buckets[b] is the first entry of the table whose top 16 bits are
   >= b (65537 entries), so a look-up compares with the one or two entries of its bucket
   instead of searching the whole table. Each look-up checks the bounds of its own bucket:
   checking all 65537 on every call took ~45 us, more than a page's look-ups. */
static PyObject *find_words(PyObject *self, PyObject *args) {
    Py_buffer needles, table, buckets;
    if (!PyArg_ParseTuple(args, "y*y*y*", &needles, &table, &buckets))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = needles.len / 8, size = table.len / 8;
    if (needles.len % 8 || table.len % 8 || buckets.len != 65537 * 8) {
        PyErr_SetString(PyExc_ValueError, "find_words: arrays of the wrong size");
        goto done;
    }
    const uint64_t *hash = (const uint64_t *)needles.buf, *words = (const uint64_t *)table.buf;
    const int64_t *first = (const int64_t *)buckets.buf;
    result = PyBytes_FromStringAndSize(NULL, n * 8);
    if (!result)
        goto done;
    int64_t *out = (int64_t *)PyBytes_AS_STRING(result);
    for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t h = hash[i];
        int64_t found = -1, start = first[h >> 48], end = first[(h >> 48) + 1];
        if (start < 0 || end > size) {
            PyErr_SetString(PyExc_ValueError, "find_words: a bucket out of the table's range");
            Py_CLEAR(result);
            goto done;
        }
        for (int64_t j = start; j < end; j++) {
            if (words[j] == h) {
                found = j;
                break;
            }
        }
        out[i] = found;
    }
done:
    PyBuffer_Release(&needles);
    PyBuffer_Release(&table);
    PyBuffer_Release(&buckets);
    return result;
}

static PyMethodDef methods[] = {
    {"find_words", find_words, METH_VARARGS,
     "Index of each hash in a sorted table of words, or -1 (see the C file)."},
    {"hash_words", hash_words, METH_VARARGS,
     "Hashes of the first words of each line and their line numbers (see the C file)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_words", NULL, -1, methods};

PyMODINIT_FUNC PyInit__words(void) { return PyModule_Create(&module); }
