/* Calls the no_std static library from C, so the check also proves the code runs.
 *
 * The handshake steps hand the library the sample opening handshake of RFC 6455 section 1.2
 * and check what comes back against the values the RFC states (section 1.3: the key
 * "dGhlIHNhbXBsZSBub25jZQ==", the base64 of the nonce "the sample nonce", gives the accept
 * value "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="). Header fields may come in any order (section 4.1),
 * so a head is compared as its start line plus the set of its header lines. Exits 1 on the
 * first wrong answer. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct server_io {
    uint8_t request[512];
    uint32_t request_len;
    uint8_t key[64];
    uint32_t key_len;
    uint8_t path[64];
    uint32_t path_len;
    uint8_t accept[28];
    uint32_t consumed;
    uint8_t response[512];
    uint32_t response_len;
};

struct client_io {
    uint8_t nonce[16];
    uint8_t response[512];
    uint32_t response_len;
    uint8_t request[512];
    uint32_t request_len;
    uint32_t verdict;
    uint8_t protocol[32];
    uint32_t protocol_len;
    uint32_t consumed;
};

uint32_t rfc6455_no_std_check(void);
uint32_t rfc6455_no_std_server(struct server_io *io);
uint32_t rfc6455_no_std_client(struct client_io *io);

#define SAMPLE_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define SAMPLE_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/* RFC 6455 section 1.2, the client's handshake. */
static const char *const request_start = "GET /chat HTTP/1.1";
static const char *const request_fields[] = {
    "Host: server.example.com",
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: " SAMPLE_KEY,
    "Origin: http://example.com",
    "Sec-WebSocket-Protocol: chat, superchat",
    "Sec-WebSocket-Version: 13",
};

/* RFC 6455 section 1.2, the server's handshake. */
static const char *const response_start = "HTTP/1.1 101 Switching Protocols";
static const char *const response_fields[] = {
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Accept: " SAMPLE_ACCEPT,
    "Sec-WebSocket-Protocol: chat",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int failures;

static void fail(const char *what) {
    fprintf(stderr, "rfc6455 no_std check: %s\n", what);
    failures++;
}

static int same(const uint8_t *got, uint32_t len, const char *want) {
    return len == strlen(want) && memcmp(got, want, len) == 0;
}

/* Whether head[..len] is exactly: start CRLF, each of fields[] once in any order, each
 * followed by CRLF, then CRLF. */
static int same_head(const uint8_t *head, uint32_t len, const char *start,
                     const char *const *fields, size_t n) {
    int used[16] = {0};
    size_t found = 0, pos = 0, line = 0;
    if (n > 16) return 0;
    for (;;) {
        size_t end = pos;
        while (end + 1 < len && !(head[end] == '\r' && head[end + 1] == '\n')) end++;
        if (end + 1 >= len) return 0; /* a line without CRLF */
        size_t l = end - pos;
        if (line == 0) {
            if (l != strlen(start) || memcmp(head + pos, start, l) != 0) return 0;
        } else if (l == 0) {
            return found == n && end + 2 == len; /* the blank line ends the head */
        } else {
            size_t i;
            for (i = 0; i < n; i++) {
                if (!used[i] && l == strlen(fields[i]) && memcmp(head + pos, fields[i], l) == 0) break;
            }
            if (i == n) return 0; /* a field the RFC's sample does not have, or twice */
            used[i] = 1;
            found++;
        }
        line++;
        pos = end + 2;
    }
}

/* Writes start, fields and the blank line into out; returns the length. */
static uint32_t write_head(uint8_t *out, const char *start, const char *const *fields, size_t n) {
    uint32_t len = 0;
    len += (uint32_t)sprintf((char *)out + len, "%s\r\n", start);
    for (size_t i = 0; i < n; i++) len += (uint32_t)sprintf((char *)out + len, "%s\r\n", fields[i]);
    len += (uint32_t)sprintf((char *)out + len, "\r\n");
    return len;
}

static void server_side(void) {
    static struct server_io io;
    /* The head, then the masked "Hello" of RFC 6455 section 5.7, which is not part of it. */
    static const uint8_t hello[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    uint32_t head = write_head(io.request, request_start, request_fields, COUNT(request_fields));
    memcpy(io.request + head, hello, sizeof hello);
    io.request_len = head + (uint32_t)sizeof hello;
    uint32_t step = rfc6455_no_std_server(&io);
    if (step != 0) {
        fprintf(stderr, "rfc6455 no_std check: server handshake failed at step %u\n", step);
        failures++;
        return;
    }
    if (!same(io.key, io.key_len, SAMPLE_KEY)) fail("server: wrong Sec-WebSocket-Key");
    if (!same(io.path, io.path_len, "/chat")) fail("server: wrong path");
    if (!same(io.accept, sizeof io.accept, SAMPLE_ACCEPT)) fail("server: wrong accept value");
    if (io.consumed != head) fail("server: the head's length is wrong");
    if (!same_head(io.response, io.response_len, response_start, response_fields, COUNT(response_fields)))
        fail("server: the 101 response is not the RFC's");
}

static void client_side(void) {
    static struct client_io io, tampered, cut;
    /* The head, then the unmasked "Hello" of RFC 6455 section 5.7. */
    static const uint8_t hello[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    memcpy(io.nonce, "the sample nonce", 16);
    uint32_t head = write_head(io.response, response_start, response_fields, COUNT(response_fields));
    memcpy(io.response + head, hello, sizeof hello);
    io.response_len = head + (uint32_t)sizeof hello;
    tampered = io;
    cut = io;

    uint32_t step = rfc6455_no_std_client(&io);
    if (step != 0) {
        fprintf(stderr, "rfc6455 no_std check: client handshake failed at step %u\n", step);
        failures++;
        return;
    }
    if (!same_head(io.request, io.request_len, request_start, request_fields, COUNT(request_fields)))
        fail("client: the request is not the RFC's");
    if (io.verdict != 0) fail("client: the RFC's response was not accepted");
    else {
        if (!same(io.protocol, io.protocol_len, "chat")) fail("client: wrong subprotocol");
        if (io.consumed != head) fail("client: the head's length is wrong");
    }

    /* One character of the accept value changed: the connection must be failed. */
    uint8_t *accept = (uint8_t *)strstr((char *)tampered.response, SAMPLE_ACCEPT);
    accept[0] = 't';
    if (rfc6455_no_std_client(&tampered) != 0 || tampered.verdict != 2)
        fail("client: a wrong accept value was not rejected");

    /* Without the blank line the head is not complete yet. */
    cut.response_len = head - 2;
    if (rfc6455_no_std_client(&cut) != 0 || cut.verdict != 1)
        fail("client: a head without its blank line was not reported incomplete");
}

int main(void) {
    uint32_t step = rfc6455_no_std_check();
    if (step != 0) {
        fprintf(stderr, "rfc6455 no_std check failed at step %u\n", step);
        return 1;
    }
    server_side();
    client_side();
    if (failures != 0) {
        fprintf(stderr, "rfc6455 no_std check: %d failure(s)\n", failures);
        return 1;
    }
    puts("rfc6455 no_std check: ok (frames, masking, close, UTF-8, server and client handshake)");
    return 0;
}
