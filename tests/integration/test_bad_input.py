"""Malformed and hostile requests over raw sockets: each gets a clear status
and a closed connection, the gateway stays up, and a request in progress on
another connection is not disturbed."""

import socket
import time
import unittest

from harness import GatewayTestCase, RawClient, build_request, config


class BadInput(GatewayTestCase):

    @classmethod
    def gateway_config(cls, origin_port):
        return config([origin_port], limits={
            "max_request_line": "1KiB", "max_header_bytes": "4KiB", "max_body_bytes": "1MiB"})

    def refused(self, raw, status, reason_part=None):
        # A victim with a half-sent request on another connection.
        victim = RawClient(self.port)
        victim.send(b"GET /bytes/11 HTTP/1.1\r\nHost: victim\r\n")
        c = RawClient(self.port)
        c.send(raw)
        r = c.read_response()
        self.assertEqual(r.status, status, r.raw_head)
        self.assertEqual(r.header("Connection"), "close")
        if reason_part:
            self.assertIn(reason_part.lower(), r.body.decode().lower())
        self.assertTrue(c.is_closed(), "connection should close after a bad request")
        c.close()
        victim.send(b"\r\n")
        self.assertEqual(len(victim.read_response().body), 11)
        victim.close()
        self.assert_alive()
        return r

    # Request smuggling shapes (RFC 9112 6.1, 6.3, 11.2).
    def test_content_length_and_transfer_encoding(self):
        self.refused(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)

    def test_transfer_encoding_then_content_length(self):
        self.refused(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     b"Content-Length: 5\r\n\r\n0\r\n\r\n", 400)

    def test_differing_duplicate_content_length(self):
        self.refused(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                     b"Content-Length: 6\r\n\r\nhello!", 400)

    def test_content_length_list(self):
        self.refused(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!", 400)

    def test_bad_content_length(self):
        self.refused(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400)
        self.refused(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", 400)

    def test_transfer_encoding_not_final_chunked(self):
        for te in (b"chunked, gzip", b"gzip, chunked", b"identity", b"gzip", b"chunkedx"):
            self.refused(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te +
                         b"\r\n\r\n0\r\n\r\n", 400)

    def test_two_transfer_encoding_headers(self):
        self.refused(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)

    def test_chunked_from_http10(self):
        self.refused(b"POST /echo HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"0\r\n\r\n", 400)

    def test_bad_chunk_size(self):
        self.refused(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"zz\r\nhello\r\n0\r\n\r\n", 400, "chunked")

    def test_bare_lf_ending_a_chunked_body(self):
        # llhttp takes it; passed on, an upstream wanting CRLF would hang.
        self.refused(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"1\r\na\r\n0\r\n\n", 400, "chunked")

    def test_endless_trailer_section(self):
        # Trailers are dropped, not forwarded, but never read forever: the
        # section is held to max_header_bytes (4 KiB here).
        self.refused(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"1\r\na\r\n0\r\n" + b"X-Pad: " + b"p" * 5000 + b"\r\n\r\n", 400, "trailer section")

    def test_endless_chunk_extension_or_size(self):
        # Framing bytes are not payload: without their own bound they would
        # be forwarded past max_body_bytes.
        head = b"POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        for framing in (b"1;x=" + b"a" * 20000 + b"\r\nA\r\n0\r\n\r\n",
                        b"0" * 20000 + b"1\r\nA\r\n0\r\n\r\n"):
            with self.subTest(framing=framing[:8]):
                self.refused(head + framing, 400, "chunk header too long")

    def test_empty_chunk_extension(self):
        # RFC 9112 7.1.1: a name is a token, a value a token or quoted-string.
        head = b"POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        for ext in (b";=x", b";a=", b";a=b;=c"):
            with self.subTest(ext=ext):
                self.refused(head + b"1" + ext + b"\r\nA\r\n0\r\n\r\n", 400, "chunk")

    def test_short_chunk_extensions_pass(self):
        c = RawClient(self.port)
        c.send(b"POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
               b"1;name=value\r\nA\r\n" * 300 + b"0\r\n\r\n")
        r = c.read_response()
        self.assertEqual((r.status, r.body.strip()), (200, b"300"))
        c.close()

    def status_split_at(self, raw, split):
        """The status answering raw, sent whole (split None) or in two writes."""
        c = RawClient(self.port)
        try:
            if split is None:
                c.send(raw)
            else:
                c.send(raw[:split])
                time.sleep(0.05)
                try:
                    c.send(raw[split:])
                except (BrokenPipeError, ConnectionResetError):
                    pass  # refused already: the answer is waiting
            return c.read_response().status
        finally:
            c.close()

    def test_head_verdict_does_not_depend_on_the_split(self):
        # Target and fields each just within their limits (1 KiB, 4 KiB).
        raw = (b"GET /" + b"a" * 1023 + b" HTTP/1.1\r\nHost: h\r\nX: " + b"v" * 4074 +
               b"\r\n\r\n")
        for split in (None, 100, len(raw) - 1):
            with self.subTest(split=split):
                self.assertEqual(self.status_split_at(raw, split), 200)

    def test_leading_empty_lines_count_toward_the_head(self):
        # RFC 9112 2.2 lets empty lines precede a request; they are head
        # bytes all the same, however the head arrives.
        raw = b"\r\n" * 3000 + b"GET /bytes/1 HTTP/1.1\r\nHost: h\r\n\r\n"
        for split in (None, 1000):
            with self.subTest(split=split):
                self.assertEqual(self.status_split_at(raw, split), 431)

    def test_invalid_host_with_absolute_form_target(self):
        # The authority is routed on, but the Host field must still be valid.
        self.refused(b"GET http://good/x HTTP/1.1\r\nHost: e v\r\n\r\n", 400, "host")

    def test_expectations_however_split_into_lines(self):
        for expect in (b"Expect: foo\r\nExpect: 100-continue\r\n", b"Expect: 100-continue, foo\r\n"):
            with self.subTest(expect=expect):
                self.refused(b"POST /sink HTTP/1.1\r\nHost: x\r\n" + expect +
                             b"Content-Length: 3\r\n\r\nabc", 417)

    def test_one_byte_segments_do_not_starve_other_clients(self):
        # Every queued segment holds a whole receive buffer: a client that
        # sends single bytes behind a response it does not read must not
        # take the worker's buffers from everyone else.
        c = RawClient(self.port)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.send(b"GET /bytes/500000000 HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.2)
        for _ in range(1100):
            c.send(b"X")
            time.sleep(0.001)
        victim = RawClient(self.port, timeout=5.0)
        victim.send(build_request("GET", "/bytes/5", headers=[("Connection", "close")]))
        self.assertEqual(len(victim.read_response().body), 5)
        victim.close()
        c.close()

    def test_path_parameters(self):
        # Servlet containers strip ";params" before routing: /admin;x/y is
        # their /admin/y, whatever route /admin;x/y matched here.
        for target in (b"/admin;/secret", b"/admin;x=1", b"/public/..;/admin"):
            self.refused(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n", 400, "semicolon")

    def test_trace_is_not_forwarded(self):
        c = RawClient(self.port)
        c.send(b"TRACE / HTTP/1.1\r\nHost: x\r\nMax-Forwards: 0\r\n\r\n")
        r = c.read_response()
        self.assertEqual(r.status, 501)
        c.send(build_request("GET", "/bytes/3"))  # the connection goes on
        self.assertEqual(len(c.read_response().body), 3)
        c.close()

    def test_chunk_size_overflow(self):
        self.refused(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"fffffffffffffffffff\r\nx\r\n0\r\n\r\n", 400)

    def test_obs_fold_or_empty_name_in_trailers(self):
        # Trailers are forwarded as received: they meet the head's rules.
        for trailers in (b"X-T: a\r\n b\r\n\r\n", b"X-T:\r\n b\r\n\r\n", b": v\r\n\r\n",
                         b"X-T:\r\n \r\n\r\n"):
            with self.subTest(trailers=trailers):
                self.refused(b"POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"5\r\nhello\r\n0\r\n" + trailers, 400)

    def test_bare_cr_in_header(self):
        self.refused(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400)

    def test_bare_cr_line_ending(self):
        self.refused(b"GET / HTTP/1.1\rHost: x\r\n\r\n", 400)

    def test_obs_fold(self):
        # Inside a value, after an empty first line (the continuation would
        # pass for the value: here a Transfer-Encoding), of blanks only.
        for field in (b"X-A: a\r\n  folded\r\n", b"Transfer-Encoding:\r\n chunked\r\n",
                      b"X-A:\r\n \r\n"):
            with self.subTest(field=field):
                self.refused(b"GET / HTTP/1.1\r\nHost: x\r\n" + field + b"\r\n", 400)

    def test_space_before_colon(self):
        self.refused(b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400)

    def test_bad_header_name(self):
        self.refused(b"GET / HTTP/1.1\r\nHost: x\r\nX(A): 1\r\n\r\n", 400)

    def test_nul_in_header_value(self):
        self.refused(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400)

    def test_missing_host(self):
        self.refused(b"GET / HTTP/1.1\r\n\r\n", 400, "host")

    def test_two_hosts(self):
        self.refused(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "host")

    def test_invalid_host_values(self):
        # RFC 9112 3.2: an invalid Host value is answered 400, before it can
        # reach routing, the upstream's Host or X-Forwarded-Host.
        for host in (b"a b", b"x/y", b"user@h", b"h\\x", b"h:80x", b"", b"[::1", b"h%zz",
                     b"h\xc3\xa9"):
            with self.subTest(host=host):
                self.refused(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n", 400, "host")

    def test_valid_host_values_pass(self):
        for host in (b"example.com", b"example.com:8080", b"[::1]:80", b"127.0.0.1", b"a_b-c.~x",
                     b"h:"):
            with self.subTest(host=host):
                c = RawClient(self.port)
                c.send(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
                self.assertEqual(c.read_response().status, 200)
                c.close()

    def test_garbage(self):
        self.refused(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n", 400)

    def test_bad_method(self):
        self.refused(b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n", 400)

    def test_unknown_method_is_not_implemented(self):
        # A well-formed method the gateway does not know (RFC 9110 9.1).
        self.refused(b"QUERY / HTTP/1.1\r\nHost: x\r\n\r\n", 501)
        self.refused(b"get / HTTP/1.1\r\nHost: x\r\n\r\n", 501)

    def test_bad_version(self):
        self.refused(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505)
        self.refused(b"GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505)
        self.refused(b"GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505)
        self.refused(b"GET / HTTP/1.10\r\nHost: x\r\n\r\n", 400)
        self.refused(b"GET / http/1.1\r\nHost: x\r\n\r\n", 400)

    def test_higher_minor_version_is_served_as_one_one(self):
        # RFC 9112 2.3: HTTP/1.2 is processed as HTTP/1.1, kept alive.
        c = RawClient(self.port)
        for _ in range(2):
            c.send(b"GET / HTTP/1.2\r\nHost: x\r\n\r\n")
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertTrue(r.raw_head.startswith(b"HTTP/1.1 200"))
        c.close()

    def test_connect_refused(self):
        # Not a method this gateway implements for any resource: 501, not a
        # 405 (which would owe an Allow list, RFC 9110 15.5.6).
        self.refused(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501)

    # Paths: normalised before routing, tricks refused.
    def test_encoded_slash(self):
        self.refused(build_request("GET", "/a%2Fb"), 400, "slash")
        self.refused(build_request("GET", "/a%2fb"), 400, "slash")

    def test_encoded_backslash_and_nul(self):
        self.refused(build_request("GET", "/a%5Cb"), 400)
        self.refused(build_request("GET", "/a%00b"), 400)
        self.refused(build_request("GET", "/a\\b"), 400)

    def test_malformed_escape(self):
        self.refused(build_request("GET", "/a%zz"), 400)

    # Limits.
    def test_request_line_too_long(self):
        self.refused(build_request("GET", "/" + "a" * 2000), 414)

    def test_refused_head_gets_no_body(self):
        # RFC 9110 9.3.2: never content in a response to HEAD, errors too.
        for raw, status in ((build_request("HEAD", "/" + "a" * 2000), 414),
                            (build_request("HEAD", "/", headers=[("X-Big", "b" * 5000)]), 431)):
            with self.subTest(status=status):
                c = RawClient(self.port)
                c.send(raw)
                r = c.read_response(head_request=True)
                self.assertEqual(r.status, status)
                self.assertTrue(c.is_closed())
                self.assertEqual(c.buf, b"")
                c.close()

    def test_local_answers_carry_a_date(self):
        c = RawClient(self.port)
        c.send(build_request("GET", "/a%zz"))
        r = c.read_response()
        self.assertEqual(r.status, 400)
        self.assertRegex(r.header("Date") or "", r"^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$")
        c.close()

    def test_headers_too_large(self):
        self.refused(build_request("GET", "/", headers=[("X-Big", "b" * 5000)]), 431)

    def test_headers_too_large_in_pieces(self):
        victim = RawClient(self.port)
        c = RawClient(self.port)
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n")
        try:
            for i in range(100):
                c.send(b"X-H%d: %s\r\n" % (i, b"v" * 100))
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = c.read_response()
        self.assertEqual(r.status, 431)
        victim.send(build_request("GET", "/bytes/2"))
        self.assertEqual(len(victim.read_response().body), 2)

    def test_body_too_large_content_length(self):
        self.refused(b"POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413)

    def test_body_too_large_chunked(self):
        c = RawClient(self.port)
        c.send(b"POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"10000\r\n" + b"z" * 0x10000 + b"\r\n"
        try:
            for _ in range(40):
                c.send(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = c.read_response()
        # /sink answers only after the whole body: the answer is ours.
        self.assertEqual(r.status, 413)
        self.assertTrue(c.is_closed())
        self.assert_alive()

    def test_pipelined_after_bad_request_not_processed(self):
        c = RawClient(self.port)
        c.send(b"GET / HTTP/1.1\r\nHost : x\r\n\r\n" + build_request("GET", "/bytes/5"))
        r = c.read_response()
        self.assertEqual(r.status, 400)
        self.assertTrue(c.is_closed())
        self.assertEqual(c.buf, b"")


if __name__ == "__main__":
    unittest.main()
