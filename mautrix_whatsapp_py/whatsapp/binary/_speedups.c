/*
 * Optional C accelerator for the binary XML codec.
 *
 * The pure-Python encoder and decoder define the format; this module mirrors them for speed and
 * is checked against them by the test suite. It holds no token tables of its own: they come with
 * each call (there are two dictionary versions), and the Node and JID types, their slots and the
 * error types are handed over once by `configure()`.
 *
 * Wire tags used below (see tokens.py for the names):
 *   0 LIST_EMPTY, 236-239 DICTIONARY_0..3, 245 INTEROP_JID, 246 FB_JID, 247 AD_JID,
 *   248 LIST_8, 249 LIST_16, 250 JID_PAIR, 251 HEX_8, 252 BINARY_8, 253 BINARY_20,
 *   254 BINARY_32, 255 NIBBLE_8.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define T_LIST_EMPTY 0
#define T_DICT0 236
#define T_DICT3 239
#define T_INTEROP_JID 245
#define T_FB_JID 246
#define T_AD_JID 247
#define T_LIST_8 248
#define T_LIST_16 249
#define T_JID_PAIR 250
#define T_HEX_8 251
#define T_BINARY_8 252
#define T_BINARY_20 253
#define T_BINARY_32 254
#define T_NIBBLE_8 255
#define PACKED_MAX 127
#define MAX_DEPTH 64

/* The types configure() hands over. Token tables vary by dictionary version and come with each
 * call instead, so that two versions can be in use at once. */
static PyObject *ad_domains = NULL;    /* dict[int, str]: AD JID domain byte -> server */
static PyObject *default_server = NULL;
/* Slot descriptors of Node (tag, attrs, content) and JID (user, server, device, agent,
 * integrator, then caches set to None). Objects are built by filling these directly, which
 * skips the Python-level __init__ and its validation: the decoder has already checked ranges. */
#define NODE_SLOTS 3
#define JID_SLOTS 7
static PyObject *node_slots[NODE_SLOTS];
static PyObject *jid_slots[JID_SLOTS];
static PyTypeObject *jid_type = NULL;
static PyTypeObject *node_type = NULL;
static PyObject *decode_error = NULL;
static PyObject *encode_error = NULL;
static PyObject *str_tag, *str_attrs, *str_content;
static PyObject *str_user, *str_server, *str_device, *str_integrator;
static PyObject *empty_str;

/* ------------------------------------------------------------------------------------------ */
/* Decoder                                                                                     */

typedef struct {
    const unsigned char *data;
    Py_ssize_t len;
    Py_ssize_t pos;
    int depth;
    PyObject *single; /* tuple[str] */
    PyObject *dbl;    /* tuple of 4 tuple[str] */
} Reader;

static int
eos(Reader *r, Py_ssize_t n)
{
    if (n < 0 || r->pos + n > r->len) {
        PyErr_Format(decode_error, "unexpected end of data at offset %zd (wanted %zd more bytes)",
                     r->pos, n);
        return 1;
    }
    return 0;
}

static int
read_byte(Reader *r, int *out)
{
    if (eos(r, 1))
        return -1;
    *out = r->data[r->pos++];
    return 0;
}

static int
read_int(Reader *r, int n, Py_ssize_t *out)
{
    Py_ssize_t v = 0;
    if (eos(r, n))
        return -1;
    for (int i = 0; i < n; i++)
        v = (v << 8) | r->data[r->pos + i];
    r->pos += n;
    *out = v;
    return 0;
}

static int
read_list_size(Reader *r, int tag, Py_ssize_t *out)
{
    switch (tag) {
    case T_LIST_EMPTY:
        *out = 0;
        return 0;
    case T_LIST_8:
        return read_int(r, 1, out);
    case T_LIST_16:
        return read_int(r, 2, out);
    default:
        PyErr_Format(decode_error, "invalid list size tag %d at offset %zd", tag, r->pos - 1);
        return -1;
    }
}

static PyObject *
read_packed(Reader *r, int tag)
{
    int start;
    if (read_byte(r, &start))
        return NULL;
    Py_ssize_t n = start & 0x7F;
    if (n == 0 && (start >> 7)) {
        PyErr_Format(decode_error, "empty packed string marked odd at offset %zd", r->pos - 1);
        return NULL;
    }
    if (eos(r, n))
        return NULL;
    char buf[2 * PACKED_MAX];
    Py_ssize_t out = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char b = r->data[r->pos + i];
        unsigned char halves[2] = {(unsigned char)(b >> 4), (unsigned char)(b & 0x0F)};
        for (int h = 0; h < 2; h++) {
            unsigned char v = halves[h];
            char c;
            if (tag == T_NIBBLE_8) {
                if (v < 10)
                    c = (char)('0' + v);
                else if (v == 10)
                    c = '-';
                else if (v == 11)
                    c = '.';
                else if (v == 15)
                    c = '\0';
                else {
                    PyErr_Format(decode_error, "invalid nibble %d at offset %zd", v, r->pos + i);
                    return NULL;
                }
            } else {
                c = v < 10 ? (char)('0' + v) : (char)('A' + v - 10);
            }
            buf[out++] = c;
        }
    }
    r->pos += n;
    if (start >> 7)
        out--; /* odd length: the last half-byte is padding */
    return PyUnicode_DecodeASCII(buf, out, NULL);
}

static PyObject *read_value(Reader *r, int as_string);

static PyObject *
read_raw(Reader *r, Py_ssize_t n, int as_string)
{
    if (eos(r, n))
        return NULL;
    const char *p = (const char *)r->data + r->pos;
    r->pos += n;
    if (!as_string)
        return PyBytes_FromStringAndSize(p, n);
    PyObject *s = PyUnicode_DecodeUTF8(p, n, NULL);
    if (s == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        PyErr_Clear();
        PyErr_Format(decode_error, "invalid UTF-8 in string at offset %zd", r->pos - n);
    }
    return s;
}

/* A value in string position: attribute keys and values, tags, JID parts. Returns NULL with
 * no exception set for LIST_EMPTY (an absent value). */
static PyObject *
read_string_or_jid(Reader *r, int *is_none)
{
    *is_none = 0;
    PyObject *v = read_value(r, 1);
    if (v == Py_None) {
        Py_DECREF(v);
        *is_none = 1;
        return NULL;
    }
    return v;
}

static PyObject *
read_jid_part(Reader *r, const char *what)
{
    int is_none;
    PyObject *v = read_string_or_jid(r, &is_none);
    if (v == NULL && !is_none)
        return NULL;
    if (is_none) {
        Py_INCREF(empty_str);
        return empty_str;
    }
    if (!PyUnicode_CheckExact(v)) {
        Py_DECREF(v);
        PyErr_Format(decode_error, "JID %s is not a string at offset %zd", what, r->pos);
        return NULL;
    }
    return v;
}

static PyObject *
build(PyTypeObject *type, PyObject **slots, PyObject **values, int n)
{
    PyObject *obj = type->tp_alloc(type, 0);
    if (!obj)
        return NULL;
    for (int i = 0; i < n; i++) {
        if (Py_TYPE(slots[i])->tp_descr_set(slots[i], obj, values[i])) {
            Py_DECREF(obj);
            return NULL;
        }
    }
    return obj;
}

static PyObject *
fast_jid(PyObject *user, PyObject *server, long device, long agent, long integrator)
{
    PyObject *dev = PyLong_FromLong(device), *ag = PyLong_FromLong(agent),
             *integ = PyLong_FromLong(integrator), *result = NULL;
    if (dev && ag && integ) {
        PyObject *values[JID_SLOTS] = {user, server, dev, ag, integ, Py_None, Py_None};
        result = build(jid_type, jid_slots, values, JID_SLOTS);
    }
    Py_XDECREF(dev);
    Py_XDECREF(ag);
    Py_XDECREF(integ);
    return result;
}

static PyObject *read_node(Reader *r);

static PyObject *
read_list(Reader *r, int tag)
{
    Py_ssize_t size;
    if (read_list_size(r, tag, &size))
        return NULL;
    PyObject *list = PyList_New(size);
    if (!list)
        return NULL;
    for (Py_ssize_t i = 0; i < size; i++) {
        PyObject *child = read_node(r);
        if (!child) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, child);
    }
    return list;
}

static PyObject *
token_as(PyObject *tok, int as_string)
{
    if (as_string) {
        Py_INCREF(tok);
        return tok;
    }
    return PyUnicode_AsUTF8String(tok);
}

static PyObject *
as_content(PyObject *s, int as_string)
{
    /* Strings in content position (tokens, packed, JIDs) become bytes: content is bytes or a
     * list of nodes, never str. */
    if (as_string || s == NULL)
        return s;
    PyObject *text = PyUnicode_CheckExact(s) ? (Py_INCREF(s), s) : PyObject_Str(s);
    Py_DECREF(s);
    if (!text)
        return NULL;
    PyObject *b = PyUnicode_AsUTF8String(text);
    Py_DECREF(text);
    return b;
}

static PyObject *
read_value(Reader *r, int as_string)
{
    int tag;
    if (read_byte(r, &tag))
        return NULL;
    Py_ssize_t n;
    switch (tag) {
    case T_LIST_EMPTY:
        Py_RETURN_NONE;
    case T_LIST_8:
    case T_LIST_16:
        if (as_string) {
            PyErr_Format(decode_error, "unexpected list where a string belongs at offset %zd",
                         r->pos - 1);
            return NULL;
        }
        return read_list(r, tag);
    case T_BINARY_8:
        if (read_int(r, 1, &n))
            return NULL;
        return read_raw(r, n, as_string);
    case T_BINARY_20:
        if (eos(r, 3))
            return NULL;
        n = ((Py_ssize_t)(r->data[r->pos] & 0x0F) << 16) | ((Py_ssize_t)r->data[r->pos + 1] << 8) |
            r->data[r->pos + 2];
        r->pos += 3;
        return read_raw(r, n, as_string);
    case T_BINARY_32:
        if (read_int(r, 4, &n))
            return NULL;
        return read_raw(r, n, as_string);
    case T_DICT0:
    case T_DICT0 + 1:
    case T_DICT0 + 2:
    case T_DICT3: {
        int idx;
        if (read_byte(r, &idx))
            return NULL;
        PyObject *dict = PyTuple_GET_ITEM(r->dbl, tag - T_DICT0);
        if (idx >= PyTuple_GET_SIZE(dict)) {
            PyErr_Format(decode_error, "invalid double-byte token %d:%d at offset %zd",
                         tag - T_DICT0, idx, r->pos - 2);
            return NULL;
        }
        return token_as(PyTuple_GET_ITEM(dict, idx), as_string);
    }
    case T_JID_PAIR: {
        PyObject *user = read_jid_part(r, "user");
        if (!user)
            return NULL;
        int is_none;
        PyObject *server = read_string_or_jid(r, &is_none);
        if (!server) {
            Py_DECREF(user);
            if (is_none)
                PyErr_Format(decode_error, "JID pair without server at offset %zd", r->pos);
            return NULL;
        }
        if (!PyUnicode_CheckExact(server)) {
            Py_DECREF(user);
            Py_DECREF(server);
            PyErr_Format(decode_error, "JID server is not a string at offset %zd", r->pos);
            return NULL;
        }
        PyObject *jid = fast_jid(user, server, 0, 0, 0);
        Py_DECREF(user);
        Py_DECREF(server);
        return as_content(jid, as_string);
    }
    case T_AD_JID: {
        int agent, device;
        if (read_byte(r, &agent) || read_byte(r, &device))
            return NULL;
        PyObject *user = read_jid_part(r, "user");
        if (!user)
            return NULL;
        PyObject *dom = PyLong_FromLong(agent), *jid = NULL;
        if (dom) {
            /* A known domain names the server; any other byte is a raw agent on the default. */
            PyObject *server = PyDict_GetItemWithError(ad_domains, dom);
            if (server)
                jid = fast_jid(user, server, device, 0, 0);
            else if (!PyErr_Occurred())
                jid = fast_jid(user, default_server, device, agent, 0);
        }
        Py_XDECREF(dom);
        Py_DECREF(user);
        return as_content(jid, as_string);
    }
    case T_FB_JID:
    case T_INTEROP_JID: {
        PyObject *user = read_jid_part(r, "user");
        if (!user)
            return NULL;
        Py_ssize_t device, integrator = 0;
        if (read_int(r, 2, &device) ||
            (tag == T_INTEROP_JID && read_int(r, 2, &integrator))) {
            Py_DECREF(user);
            return NULL;
        }
        PyObject *server = read_jid_part(r, "server");
        if (!server) {
            Py_DECREF(user);
            return NULL;
        }
        const char *want = tag == T_FB_JID ? "msgr" : "interop";
        if (PyUnicode_CompareWithASCIIString(server, want) != 0) {
            PyErr_Format(decode_error, "JID of tag %d must be on %s, not %R", tag, want, server);
            Py_DECREF(user);
            Py_DECREF(server);
            return NULL;
        }
        PyObject *jid = fast_jid(user, server, (long)device, 0, (long)integrator);
        Py_DECREF(user);
        Py_DECREF(server);
        return as_content(jid, as_string);
    }
    case T_NIBBLE_8:
    case T_HEX_8:
        return as_content(read_packed(r, tag), as_string);
    default:
        if (tag >= 1 && tag < PyTuple_GET_SIZE(r->single))
            return token_as(PyTuple_GET_ITEM(r->single, tag), as_string);
        PyErr_Format(decode_error, "invalid token %d at offset %zd", tag, r->pos - 1);
        return NULL;
    }
}

static PyObject *
read_node(Reader *r)
{
    int tag;
    Py_ssize_t size;
    if (++r->depth > MAX_DEPTH) {
        PyErr_Format(decode_error, "nodes nested deeper than %d", MAX_DEPTH);
        return NULL;
    }
    if (read_byte(r, &tag) || read_list_size(r, tag, &size))
        return NULL;
    if (size == 0) {
        PyErr_Format(decode_error, "node with an empty list at offset %zd", r->pos);
        return NULL;
    }
    int is_none;
    PyObject *desc = read_string_or_jid(r, &is_none);
    if (!desc) {
        if (is_none)
            PyErr_Format(decode_error, "node without a tag at offset %zd", r->pos);
        return NULL;
    }
    if (!PyUnicode_CheckExact(desc)) {
        Py_DECREF(desc);
        PyErr_Format(decode_error, "node tag is not a string at offset %zd", r->pos);
        return NULL;
    }
    PyObject *attrs = PyDict_New();
    PyObject *content = NULL, *result = NULL;
    if (!attrs)
        goto done;
    for (Py_ssize_t i = 0, n = (size - 1) >> 1; i < n; i++) {
        PyObject *key = read_string_or_jid(r, &is_none);
        if (!key) {
            if (is_none)
                PyErr_Format(decode_error, "empty attribute key at offset %zd", r->pos);
            goto done;
        }
        if (!PyUnicode_CheckExact(key)) {
            Py_DECREF(key);
            PyErr_Format(decode_error, "attribute key is not a string at offset %zd", r->pos);
            goto done;
        }
        PyObject *value = read_string_or_jid(r, &is_none);
        if (!value) {
            if (!is_none) {
                Py_DECREF(key);
                goto done;
            }
            value = empty_str;
            Py_INCREF(value);
        }
        int err = PyDict_SetItem(attrs, key, value);
        Py_DECREF(key);
        Py_DECREF(value);
        if (err)
            goto done;
    }
    if (size % 2 == 0) {
        content = read_value(r, 0);
        if (!content)
            goto done;
    } else {
        content = Py_None;
        Py_INCREF(content);
    }
    {
        PyObject *values[NODE_SLOTS] = {desc, attrs, content};
        result = build(node_type, node_slots, values, NODE_SLOTS);
    }
done:
    r->depth--;
    Py_XDECREF(desc);
    Py_XDECREF(attrs);
    Py_XDECREF(content);
    return result;
}

static PyObject *
speedups_decode(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!node_type) {
        PyErr_SetString(PyExc_RuntimeError, "_speedups.configure() was not called");
        return NULL;
    }
    if (nargs < 3 || nargs > 4 || !PyTuple_Check(args[1]) || !PyTuple_Check(args[2]) ||
        PyTuple_GET_SIZE(args[2]) != 4 || PyTuple_GET_SIZE(args[1]) > 236) {
        PyErr_SetString(PyExc_TypeError,
                        "decode(data, single_tokens, double_tokens, start=0)");
        return NULL;
    }
    for (int d = 0; d < 4; d++) {
        if (!PyTuple_Check(PyTuple_GET_ITEM(args[2], d))) {
            PyErr_SetString(PyExc_TypeError, "double_tokens must hold tuples");
            return NULL;
        }
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE))
        return NULL;
    Py_ssize_t start = 0;
    if (nargs == 4) {
        start = PyLong_AsSsize_t(args[3]);
        if (start == -1 && PyErr_Occurred()) {
            PyBuffer_Release(&view);
            return NULL;
        }
        if (start < 0 || start > view.len) {
            PyBuffer_Release(&view);
            PyErr_SetString(PyExc_ValueError, "start is outside the data");
            return NULL;
        }
    }
    Reader r = {view.buf, view.len, start, 0, args[1], args[2]};
    PyObject *node = read_node(&r);
    if (node && r.pos != r.len) {
        PyErr_Format(decode_error, "%zd bytes left over after the node", r.len - r.pos);
        Py_CLEAR(node);
    }
    if (!node && PyErr_Occurred() && !PyErr_ExceptionMatches(decode_error) &&
        (PyErr_ExceptionMatches(PyExc_MemoryError) ||
         PyErr_ExceptionMatches(PyExc_UnicodeError) ||
         PyErr_ExceptionMatches(PyExc_ValueError))) {
        /* JID and node constructors validate their input; any complaint of theirs about what
         * came off the wire is a decode error to our caller. */
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        PyErr_Format(decode_error, "invalid value in stanza: %S", value ? value : Py_None);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
    }
    PyBuffer_Release(&view);
    return node;
}

/* ------------------------------------------------------------------------------------------ */
/* Encoder                                                                                     */

typedef struct {
    char *buf;
    Py_ssize_t len;
    Py_ssize_t cap;
    int depth;
    PyObject *index; /* dict[str, int]: single -> i, double -> 256*(d+1)+i */
} Writer;

static int
grow(Writer *w, Py_ssize_t extra)
{
    if (w->len + extra <= w->cap)
        return 0;
    Py_ssize_t cap = w->cap * 2;
    while (cap < w->len + extra)
        cap *= 2;
    char *nb = PyMem_Realloc(w->buf, cap);
    if (!nb) {
        PyErr_NoMemory();
        return -1;
    }
    w->buf = nb;
    w->cap = cap;
    return 0;
}

static inline int
push_byte(Writer *w, int b)
{
    if (w->len >= w->cap && grow(w, 1))
        return -1;
    w->buf[w->len++] = (char)b;
    return 0;
}

static int
push_bytes(Writer *w, const char *p, Py_ssize_t n)
{
    if (grow(w, n))
        return -1;
    memcpy(w->buf + w->len, p, n);
    w->len += n;
    return 0;
}

static int
write_length(Writer *w, Py_ssize_t n)
{
    if (n < 256) {
        if (grow(w, 2))
            return -1;
        w->buf[w->len++] = (char)T_BINARY_8;
        w->buf[w->len++] = (char)n;
    } else if (n < (1 << 20)) {
        if (grow(w, 4))
            return -1;
        w->buf[w->len++] = (char)T_BINARY_20;
        w->buf[w->len++] = (char)((n >> 16) & 0x0F);
        w->buf[w->len++] = (char)((n >> 8) & 0xFF);
        w->buf[w->len++] = (char)(n & 0xFF);
    } else if (n < 0x7FFFFFFF) {
        if (grow(w, 5))
            return -1;
        w->buf[w->len++] = (char)T_BINARY_32;
        for (int i = 3; i >= 0; i--)
            w->buf[w->len++] = (char)((n >> (8 * i)) & 0xFF);
    } else {
        PyErr_Format(encode_error, "value of %zd bytes is too long to encode", n);
        return -1;
    }
    return 0;
}

static int
write_list_start(Writer *w, Py_ssize_t n)
{
    if (n == 0)
        return push_byte(w, T_LIST_EMPTY);
    if (n < 256)
        return push_byte(w, T_LIST_8) || push_byte(w, (int)n);
    if (n < 65536)
        return push_byte(w, T_LIST_16) || push_byte(w, (int)(n >> 8)) || push_byte(w, (int)(n & 0xFF));
    PyErr_Format(encode_error, "list of %zd items is too long to encode", n);
    return -1;
}

static int
nibble_of(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c == '-')
        return 10;
    if (c == '.')
        return 11;
    return -1;
}

static int
hex_of(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return 10 + c - 'A';
    return -1;
}

static int
write_packed(Writer *w, const char *s, Py_ssize_t n, int tag)
{
    int (*pack)(char) = tag == T_NIBBLE_8 ? nibble_of : hex_of;
    if (grow(w, 2 + (n + 1) / 2))
        return -1;
    w->buf[w->len++] = (char)tag;
    w->buf[w->len++] = (char)(((n + 1) / 2) | (n % 2 ? 0x80 : 0));
    for (Py_ssize_t i = 0; i + 1 < n; i += 2)
        w->buf[w->len++] = (char)((pack(s[i]) << 4) | pack(s[i + 1]));
    if (n % 2)
        w->buf[w->len++] = (char)((pack(s[n - 1]) << 4) | 15);
    return 0;
}

static int
write_string(Writer *w, PyObject *s)
{
    PyObject *code = PyDict_GetItemWithError(w->index, s);
    if (code) {
        long c = PyLong_AsLong(code);
        if (c < 256)
            return push_byte(w, (int)c);
        return push_byte(w, T_DICT0 + (int)(c / 256) - 1) || push_byte(w, (int)(c % 256));
    }
    if (PyErr_Occurred())
        return -1;
    Py_ssize_t n;
    const char *p = PyUnicode_AsUTF8AndSize(s, &n);
    if (!p)
        return -1;
    if (n > 0 && n <= PACKED_MAX) {
        int nib = 1, hex = 1;
        for (Py_ssize_t i = 0; i < n && (nib || hex); i++) {
            if (nib && nibble_of(p[i]) < 0)
                nib = 0;
            if (hex && hex_of(p[i]) < 0)
                hex = 0;
        }
        if (nib)
            return write_packed(w, p, n, T_NIBBLE_8);
        if (hex)
            return write_packed(w, p, n, T_HEX_8);
    }
    return write_length(w, n) || push_bytes(w, p, n);
}

static long
jid_int(PyObject *jid, PyObject *name)
{
    PyObject *v = PyObject_GetAttr(jid, name);
    if (!v)
        return -1;
    long x = v == Py_None ? 0 : PyLong_AsLong(v);
    Py_DECREF(v);
    return x;
}

static int
write_jid(Writer *w, PyObject *jid)
{
    PyObject *user = PyObject_GetAttr(jid, str_user);
    PyObject *server = PyObject_GetAttr(jid, str_server);
    int rc = -1;
    if (!user || !server || !PyUnicode_Check(user) || !PyUnicode_Check(server)) {
        if (!PyErr_Occurred())
            PyErr_SetString(encode_error, "JID user and server must be strings");
        goto done;
    }
    long device = jid_int(jid, str_device);
    long integrator = jid_int(jid, str_integrator);
    if (PyErr_Occurred())
        goto done;
    int user_server = PyUnicode_CompareWithASCIIString(server, "s.whatsapp.net") == 0;
    int lid = PyUnicode_CompareWithASCIIString(server, "lid") == 0;
    int hosted = PyUnicode_CompareWithASCIIString(server, "hosted") == 0;
    int hosted_lid = PyUnicode_CompareWithASCIIString(server, "hosted.lid") == 0;
    if (((user_server || lid) && device > 0) || hosted || hosted_lid) {
        /* The domain type byte says which server an AD JID is on; on s.whatsapp.net it is 0
         * whatever raw agent the JID carries. */
        int domain = lid ? 1 : hosted ? 128 : hosted_lid ? 129 : 0;
        rc = push_byte(w, T_AD_JID) || push_byte(w, domain & 0xFF) ||
             push_byte(w, (int)(device & 0xFF)) || write_string(w, user);
    } else if (PyUnicode_CompareWithASCIIString(server, "msgr") == 0) {
        rc = push_byte(w, T_FB_JID) || write_string(w, user) ||
             push_byte(w, (int)((device >> 8) & 0xFF)) || push_byte(w, (int)(device & 0xFF)) ||
             write_string(w, server);
    } else if (PyUnicode_CompareWithASCIIString(server, "interop") == 0) {
        rc = push_byte(w, T_INTEROP_JID) || write_string(w, user) ||
             push_byte(w, (int)((device >> 8) & 0xFF)) || push_byte(w, (int)(device & 0xFF)) ||
             push_byte(w, (int)((integrator >> 8) & 0xFF)) ||
             push_byte(w, (int)(integrator & 0xFF)) || write_string(w, server);
    } else {
        rc = push_byte(w, T_JID_PAIR) ||
             (PyUnicode_GET_LENGTH(user) == 0 ? push_byte(w, T_LIST_EMPTY) : write_string(w, user)) ||
             write_string(w, server);
    }
done:
    Py_XDECREF(user);
    Py_XDECREF(server);
    return rc ? -1 : 0;
}

static int write_node(Writer *w, PyObject *node);

static int
write_attr_value(Writer *w, PyObject *v)
{
    if (PyUnicode_CheckExact(v))
        return write_string(w, v);
    if (PyObject_TypeCheck(v, jid_type))
        return write_jid(w, v);
    if (PyLong_CheckExact(v)) {
        PyObject *s = PyObject_Str(v);
        if (!s)
            return -1;
        int rc = write_string(w, s);
        Py_DECREF(s);
        return rc;
    }
    PyErr_Format(encode_error, "attribute value of type %s cannot be encoded", Py_TYPE(v)->tp_name);
    return -1;
}

static int
write_node(Writer *w, PyObject *node)
{
    if (++w->depth > MAX_DEPTH) {
        PyErr_Format(encode_error, "nodes nested deeper than %d", MAX_DEPTH);
        return -1;
    }
    int rc = -1;
    PyObject *tag = PyObject_GetAttr(node, str_tag);
    PyObject *attrs = PyObject_GetAttr(node, str_attrs);
    PyObject *content = PyObject_GetAttr(node, str_content);
    if (!tag || !attrs || !content)
        goto done;
    if (!PyUnicode_Check(tag) || !PyDict_Check(attrs)) {
        PyErr_SetString(encode_error, "node tag must be str and attrs a dict");
        goto done;
    }
    Py_ssize_t count = 0, pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(attrs, &pos, &key, &value)) {
        /* Empty values are left out, as the real encoders do. */
        if (value != Py_None && !(PyUnicode_Check(value) && PyUnicode_GET_LENGTH(value) == 0))
            count++;
    }
    if (write_list_start(w, 2 * count + 1 + (content != Py_None)) || write_string(w, tag))
        goto done;
    pos = 0;
    while (PyDict_Next(attrs, &pos, &key, &value)) {
        if (value == Py_None || (PyUnicode_Check(value) && PyUnicode_GET_LENGTH(value) == 0))
            continue;
        if (!PyUnicode_Check(key)) {
            PyErr_SetString(encode_error, "attribute keys must be str");
            goto done;
        }
        if (write_string(w, key) || write_attr_value(w, value))
            goto done;
    }
    if (content == Py_None) {
        rc = 0;
    } else if (PyBytes_Check(content)) {
        rc = write_length(w, PyBytes_GET_SIZE(content)) ||
             push_bytes(w, PyBytes_AS_STRING(content), PyBytes_GET_SIZE(content));
    } else if (PyList_Check(content) || PyTuple_Check(content)) {
        PyObject *seq = content;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
        if (write_list_start(w, n))
            goto done;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *child = PySequence_Fast_GET_ITEM(seq, i);
            if (!PyObject_TypeCheck(child, node_type)) {
                PyErr_Format(encode_error, "list content must hold nodes, not %s",
                             Py_TYPE(child)->tp_name);
                goto done;
            }
            if (write_node(w, child))
                goto done;
        }
        rc = 0;
    } else if (PyByteArray_Check(content) || PyMemoryView_Check(content)) {
        Py_buffer view;
        if (PyObject_GetBuffer(content, &view, PyBUF_SIMPLE))
            goto done;
        rc = write_length(w, view.len) || push_bytes(w, view.buf, view.len);
        PyBuffer_Release(&view);
    } else {
        PyErr_Format(encode_error, "content of type %s cannot be encoded", Py_TYPE(content)->tp_name);
    }
done:
    w->depth--;
    Py_XDECREF(tag);
    Py_XDECREF(attrs);
    Py_XDECREF(content);
    return rc ? -1 : 0;
}

static PyObject *
speedups_encode(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!node_type) {
        PyErr_SetString(PyExc_RuntimeError, "_speedups.configure() was not called");
        return NULL;
    }
    if (nargs != 2 || !PyDict_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "encode(node, token_index: dict)");
        return NULL;
    }
    PyObject *node = args[0];
    Writer w = {PyMem_Malloc(256), 1, 256, 0, args[1]};
    if (!w.buf)
        return PyErr_NoMemory();
    w.buf[0] = 0; /* flags byte: uncompressed */
    PyObject *result = NULL;
    if (write_node(&w, node) == 0)
        result = PyBytes_FromStringAndSize(w.buf, w.len);
    PyMem_Free(w.buf);
    return result;
}

/* ------------------------------------------------------------------------------------------ */

static PyObject *
speedups_configure(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"node_type", "jid_type", "decode_error", "encode_error",
                             "node_slots", "jid_slots", "ad_domains", "default_server", NULL};
    PyObject *nt, *jt, *de, *ee, *ns, *js, *ad, *ds;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O!OOO!O!O!U", kwlist, &PyType_Type, &nt,
                                     &PyType_Type, &jt, &de, &ee, &PyTuple_Type, &ns,
                                     &PyTuple_Type, &js, &PyDict_Type, &ad, &ds))
        return NULL;
    if (PyTuple_GET_SIZE(ns) != NODE_SLOTS || PyTuple_GET_SIZE(js) != JID_SLOTS) {
        PyErr_SetString(PyExc_ValueError, "expected 3 node slots and 7 JID slots");
        return NULL;
    }
    for (int i = 0; i < NODE_SLOTS + JID_SLOTS; i++) {
        PyObject *d = i < NODE_SLOTS ? PyTuple_GET_ITEM(ns, i) : PyTuple_GET_ITEM(js, i - NODE_SLOTS);
        if (!Py_TYPE(d)->tp_descr_set) {
            PyErr_SetString(PyExc_TypeError, "slots must be settable descriptors");
            return NULL;
        }
    }
    for (int i = 0; i < NODE_SLOTS; i++) {
        Py_INCREF(PyTuple_GET_ITEM(ns, i));
        Py_XSETREF(node_slots[i], PyTuple_GET_ITEM(ns, i));
    }
    for (int i = 0; i < JID_SLOTS; i++) {
        Py_INCREF(PyTuple_GET_ITEM(js, i));
        Py_XSETREF(jid_slots[i], PyTuple_GET_ITEM(js, i));
    }
#define KEEP(var, value, type)                                                                     \
    Py_INCREF(value);                                                                              \
    Py_XSETREF(var, (type)(value));
    KEEP(node_type, nt, PyTypeObject *);
    KEEP(jid_type, jt, PyTypeObject *);
    KEEP(decode_error, de, PyObject *);
    KEEP(encode_error, ee, PyObject *);
    KEEP(ad_domains, ad, PyObject *);
    KEEP(default_server, ds, PyObject *);
#undef KEEP
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"configure", (PyCFunction)(void (*)(void))speedups_configure, METH_VARARGS | METH_KEYWORDS,
     "Hand over the node and JID types, their slots and the error types."},
    {"decode", (PyCFunction)(void (*)(void))speedups_decode, METH_FASTCALL,
     "decode(data, single_tokens, double_tokens): one node from a payload without its flags byte."},
    {"encode", (PyCFunction)(void (*)(void))speedups_encode, METH_FASTCALL,
     "encode(node, token_index): one node into a payload with its flags byte."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_speedups",
    .m_doc = "C accelerator for the binary XML codec.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
#define INTERN(var, s)                                                                             \
    if (!(var = PyUnicode_InternFromString(s)))                                                    \
        return NULL;
    INTERN(str_tag, "tag");
    INTERN(str_attrs, "attrs");
    INTERN(str_content, "content");
    INTERN(str_user, "user");
    INTERN(str_server, "server");
    INTERN(str_device, "device");
    INTERN(str_integrator, "integrator");
    INTERN(empty_str, "");
#undef INTERN
    return PyModule_Create(&module);
}
