#!/usr/bin/env python3
"""Writes the seed inputs of the provider fuzz targets into fuzz/corpus/<target>/.

The answers are shaped like the emulators' (crates/kassa-sandbox) and the unit tests'
fixtures, plus the error shapes of each API. Each file is a fuzz input as
kassa_core::fuzzing reads it: byte 0 picks the parser, byte 1 the HTTP status (an index into
STATUSES), byte 2 the content type (an index into CONTENT_TYPES) | 8 for Retry-After |
sale << 4, then the body. Files are named by their SHA-1, as libFuzzer names its own, so
running this again adds nothing twice. No network.

    python3 fuzz/seed_corpora.py
"""

import hashlib
import json
import os

# Must match kassa_core::fuzzing::STATUSES and CONTENT_TYPES.
STATUSES = [200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 302, 0, 999]
CT = {"json": 0, "json-utf8": 1, "jsonapi": 2, "html": 3, "none": 4, "problem": 5, "png": 6, "svg": 7}
MD5_KEY = "fuzz-md5-key"  # kassa_core::fuzzing's Bambora MD5 key
# The fuzz sales (kassa_core::fuzzing::SALES): NOK 130.00 (VAT 1870), reference below.
NOK_REF = "K20261121T120000000-7F3A"
NOK_ORDER_ID = "K20261121T1200000007F3A"

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def entry(pick, status=200, ct="json", body=b"", retry=False, sale=0):
    if isinstance(body, (dict, list)):
        body = json.dumps(body, ensure_ascii=False).encode()
    elif isinstance(body, str):
        body = body.encode()
    flags = CT[ct] | (8 if retry else 0) | (sale << 4)
    return bytes([pick, STATUSES.index(status), flags]) + body


def write(target, inputs):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    for data in inputs:
        with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
    print(f"{target}: {len(inputs)} seeds")


def dintero():
    sid = "T12345678.4xYzAbCdEf"
    tid = "T12345678.4xYzTxn01"
    session = {
        "id": sid,
        "created_at": "2026-11-21T11:58:00.000Z",
        "updated_at": "2026-11-21T11:58:00.000Z",
        "expires_at": "2026-11-21T12:13:00.000Z",
        "order": {"amount": 13000, "currency": "NOK", "merchant_reference": NOK_REF, "vat_amount": 1870},
        "url": {"return_url": "https://kassa.invalid/return"},
        "configuration": {"channel": "in_store"},
        "metadata": {"session:profile_id": "default"},
        "events": [{"id": sid + "-0", "name": "INITIATED", "created_at": "2026-11-21T11:58:00.000Z"}],
    }
    paid_session = dict(session, transaction_id=tid)
    cancelled = dict(session, cancelled_at="2026-11-21T12:01:00.000Z", cancelled_by="merchant")
    failed = dict(session, events=session["events"] + [{"id": sid + "-1", "name": "FAILED"}])
    expired = dict(session, expires_at="2026-11-21T11:59:59.999Z")
    txn = {
        "id": tid,
        "session_id": sid,
        "merchant_reference": NOK_REF,
        "amount": 13000,
        "currency": "NOK",
        "status": "AUTHORIZED",
        "payment_product": "dintero",
        "payment_product_type": "dintero.sandbox",
        "items": [],
        "created_at": "2026-11-21T12:02:00.000Z",
        "events": [{"event": "AUTHORIZE", "transaction_status": "AUTHORIZED", "success": True}],
    }
    statuses = ["AUTHORIZED", "CAPTURED", "PARTIALLY_CAPTURED", "ON_HOLD", "INITIATED", "DECLINED",
                "FAILED", "AUTHORIZATION_VOIDED", "REFUNDED", "UNKNOWN"]
    err = lambda code, msg: {"error": {"code": code, "message": msg}}
    out = [
        entry(0, 400, body={"error": {"code": "BAD_REQUEST", "message": "order.amount must be the sum of items",
                                      "errors": [{"message": "order.amount must be the sum of items"}]}}),
        entry(0, 401, body=err("UNAUTHORIZED", "invalid token")),
        entry(0, 403, body=err("FORBIDDEN", "account T12345678 cannot use this profile")),
        entry(0, 404, body=err("NOT_FOUND", "session not found")),
        entry(0, 429, retry=True, body=err("TOO_MANY_REQUESTS", "slow down")),
        entry(0, 500, body=err("INTERNAL", "x" * 400)),
        entry(0, 502, ct="html", body="<html><body>Bad gateway</body></html>"),
        entry(0, 503, ct="none", body=""),
        entry(0, 200, body={}),
        entry(1, 200, body={"access_token": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJUMTIzNDU2NzgifQ.", "token_type": "Bearer", "expires_in": 3600}),
        entry(1, 200, body={"access_token": "a", "token_type": "bearer", "expires_in": 30}),
        entry(1, 200, body={"access_token": "a", "token_type": "MAC", "expires_in": 3600}),
        entry(1, 200, body={"access_token": "a", "token_type": "Bearer", "expires_in": 18446744073709551615}),
        entry(1, 200, body={"access_token": "a", "token_type": "Bearer"}),
        entry(1, 200, ct="html", body="<html>login</html>"),
        entry(2, 200, body={"id": sid, "url": "https://checkout.dintero.com/v1/view/" + sid, "session": session}),
        entry(2, 200, body={"id": sid, "url": "https://checkout.dintero.com/v1/view/" + sid}),
        entry(2, 200, body={"id": sid, "url": "u", "session": dict(session, expires_at="not a time")}),
        entry(2, 200, ct="none", body="{}"),
        entry(3, 200, body=session),
        entry(3, 200, body=paid_session),
        entry(3, 200, body=cancelled),
        entry(3, 200, body=failed),
        entry(3, 200, body=expired),
        entry(3, 200, body={"id": sid}),
        entry(5, 200, body=[txn, dict(txn, id=tid + "2", status="DECLINED")]),
        entry(5, 200, body=[]),
    ]
    for st in statuses:
        out.append(entry(4, 200, body=dict(txn, status=st)))
    out += [
        entry(4, 200, body=dict(txn, amount=12999)),
        entry(4, 200, body=dict(txn, currency="SEK")),
        entry(4, 200, body=dict(txn, amount=9223372036854775807)),
        entry(4, 200, body=dict(txn, amount=1.5)),
    ]
    write("dintero_response", out)


def md5_hex(text):
    return hashlib.md5(text.encode()).hexdigest()


def bambora():
    meta_ok = {"result": True, "message": {"enduser": "", "merchant": ""},
               "action": {"code": "0", "source": "ePay", "type": "Success"}}

    def err(code, merchant):
        return {"meta": {"result": False, "message": {
            "enduser": "The payment could not be completed. Please try again or ask the shop for help.",
            "merchant": merchant}, "action": {"code": code, "source": "ePay", "type": "GeneralError"}}}

    txn = {"transaction": {
        "id": "70000000001", "orderid": NOK_ORDER_ID, "merchantnumber": "T123456789",
        "reference": NOK_REF, "status": "authorized", "createddate": "2026-11-21T12:02:00.000Z",
        "currency": {"code": "NOK", "minorunits": 2},
        "total": {"authorized": 13000, "balance": 0, "captured": 0, "credited": 0, "declined": 0, "feeamount": 0},
        "available": {"capture": 13000, "credit": 0}, "candelete": True}, "meta": meta_ok}

    def with_total(**kw):
        t = json.loads(json.dumps(txn))
        t["transaction"]["total"].update(kw)
        return t

    params = [("txnid", "70000000001"), ("orderid", NOK_ORDER_ID), ("reference", NOK_REF),
              ("amount", "13000"), ("currency", "578"), ("date", "20261121"), ("time", "1202"),
              ("feeid", "0"), ("txnfee", "0"), ("paymenttype", "1"), ("cardno", "457199XXXXXX0026"),
              ("expmonth", "12"), ("expyear", "30"), ("eci", "7"), ("issuercountry", "NOR")]
    query = "&".join(f"{k}={v}" for k, v in params)
    good_hash = md5_hex("".join(v for _, v in params) + MD5_KEY)
    accept = f"https://kassa.invalid/return?{query}&hash={good_hash}"
    with_own = f"https://shop.example/r?till=2&{query}&hash={good_hash}"
    out = [
        entry(0, 200, body={"meta": meta_ok}),
        entry(0, 200, body=err("100", "The merchant number is not valid")),
        entry(0, 400, body=err("400", "order.amount must equal the sum of the lines")),
        entry(0, 401, body=err("401", "Authentication failed")),
        entry(0, 404, body=err("404", "transaction 7 not found")),
        entry(0, 429, retry=True, body=""),
        entry(0, 500, ct="html", body="<h1>Internal error</h1>"),
        entry(0, 200, body={"meta": {"result": True}}),
        entry(0, 200, body={"meta": {"result": "yes"}}),
        entry(1, 200, body={"token": "a1b2c3", "url": "https://v1.checkout.bambora.com/a1b2c3", "meta": meta_ok}),
        entry(1, 200, body={"meta": meta_ok}),
        entry(2, 200, body={"id": "pr-1", "url": "https://pay.bambora.com/pr-1", "meta": meta_ok}),
        entry(3, 200, body={"id": "pr-1", "status": "open", "reference": NOK_REF, "meta": meta_ok,
                            "parameters": {"order": {"id": NOK_ORDER_ID, "amount": 13000, "currency": "NOK"}}}),
        entry(3, 200, body={"id": "pr-1", "status": "closed", "meta": meta_ok}),
        entry(4, 200, body=txn),
        entry(4, 200, body=with_total(authorized=12999)),
        entry(4, 200, body=with_total(credited=13000, captured=13000)),
        entry(4, 200, body=with_total(authorized=-1)),
        entry(5, body=accept),
        entry(5, body=accept.replace("amount=13000", "amount=1")),
        entry(5, body=accept.replace(f"hash={good_hash}", f"hash={good_hash.upper()}")),
        entry(5, body=with_own),
        entry(5, body=f"https://shop.example/r?till=2&{query}&hash={md5_hex('2' + ''.join(v for _, v in params) + MD5_KEY)}"),
        entry(5, body="https://kassa.invalid/return?kassa=cancelled"),
        entry(5, body="https://kassa.invalid/return?txnid=7&orderid=OTHER&hash=00"),
        entry(5, body="https://kassa.invalid/return?x=%zz%4&txnid=%E2%82%AC&hash=#frag"),
        entry(6, body=f"https://kassa.invalid/return?{query}"),
        entry(6, body=f"https://shop.example/r?till=2&{query}"),
        entry(6, body="https://kassa.invalid/return?txnid=7&orderid=OTHER"),
        entry(6, body="https://kassa.invalid/return?txnid=7&orderid=" + NOK_ORDER_ID),
        entry(6, body="https://kassa.invalid/return"),
        entry(7, body=accept),
        entry(7, body="https://kassa.invalid/return?kassa=cancelled"),
    ]
    # After the sale: the transaction with its operations list in one body (parser 8), and the
    # answers to capture, credit and delete (parser 9).
    authorize = {"id": 9001, "action": "authorize", "subaction": "ssl", "status": "approved", "amount": 13000,
                 "currency": {"code": "NOK", "minorunits": 2}, "createddate": "2026-11-21T12:02:00.000Z",
                 "transactionoperations": [{"id": 9002, "action": "capture", "subaction": "fullinstant",
                                            "status": "approved", "amount": 13000, "parenttransactionoperationid": 9001}]}
    credit = {"id": 9003, "action": "credit", "subaction": "partly", "status": "approved", "amount": 2500}
    declined = {"id": "9004", "action": "capture", "subaction": "full", "status": "declined", "amount": 13000,
                "actioncode": "905", "actionsource": "ePay"}
    delete = {"id": 9005, "action": "delete", "subaction": "instant", "status": "approved", "amount": 0}
    state = with_total(captured=13000, credited=2500)
    state["transaction"]["available"] = {"capture": 0, "credit": 10500}
    state["transactionoperations"] = [authorize, credit]
    released = with_total(captured=4000)
    released["transaction"]["available"] = {"capture": 0, "credit": 4000}
    released["transactionoperations"] = [authorize]
    deleted = json.loads(json.dumps(txn))
    deleted["transactionoperations"] = [dict(authorize, transactionoperations=[]), delete]
    out += [
        entry(8, 200, body=state),
        entry(8, 200, body=released),
        entry(8, 200, body=deleted),
        entry(8, 200, body=dict(txn, transactionoperations=[declined, {"id": 1, "action": "authorize"}])),
        entry(8, 200, body=dict(txn, transactionoperations=[{"id": 1.5, "action": "capture", "status": "approved"}])),
        entry(8, 200, body={"meta": meta_ok, "transactionoperations": [], "transaction": {
            "id": "1", "currency": {"code": "NOK"}, "total": {"authorized": 2**63 - 1, "captured": -1},
            "available": {"capture": 0, "credit": 0}}}),
        entry(9, 200, body={"meta": meta_ok, "transactionoperations": [credit]}),
        entry(9, 200, body={"meta": meta_ok, "transactionoperations": [declined]}),
        entry(9, 200, body={"meta": meta_ok, "transactionoperations": [delete]}),
        entry(9, 200, body={"meta": meta_ok}),
        entry(9, 409, body=err("CONFLICT", "amount 20000 exceeds what can be credited (10500)")),
    ]
    write("bambora_response", out)


def klarna():
    sid = "0b1d9815-165e-42e2-8867-35bc03789e00"
    hpp = "8c1a2f0e-6e8a-4b5e-9d6a-5f0c8a1b2c3d"
    err = {"error_code": "BAD_VALUE", "error_messages": ["Bad value: order_lines[0].total_amount"],
           "correlation_id": "6a9b1cb1-3d8f-4f7b-a0b4-2c3d4e5f6a7b"}
    base = "https://api.playground.klarna.com"
    created = {"session_id": hpp, "session_url": f"{base}/hpp/v1/sessions/{hpp}",
               "qr_code_url": f"https://pay.playground.klarna.com/hpp/pay/{hpp}/qr",
               "distribution_url": f"{base}/hpp/v1/sessions/{hpp}/distribution",
               "redirect_url": f"https://pay.playground.klarna.com/hpp/pay/{hpp}",
               "expires_at": "2026-11-23T11:00:00.000Z"}
    hpp_read = {"session_id": hpp, "status": "WAITING", "updated_at": "2026-11-21T11:58:00.000Z",
                "expires_at": "2026-11-21T12:13:00.000Z"}
    order = {"order_id": "f3392f8b-6116-4073-ab96-e330819e2c07", "status": "AUTHORIZED",
             "fraud_status": "ACCEPTED", "order_amount": 13000, "original_order_amount": 13000,
             "captured_amount": 0, "refunded_amount": 0, "remaining_authorized_amount": 13000,
             "purchase_currency": "NOK", "purchase_country": "NO", "order_lines": [],
             "klarna_reference": "K4MADNY-1", "created_at": "2026-11-21T12:02:00.000Z",
             "captures": [], "refunds": [], "merchant_reference1": NOK_REF}
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")
    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 21 21"><rect width="7" height="7"/></svg>'
    out = [
        entry(0, 400, body=err),
        entry(0, 401, body={"error_code": "UNAUTHORIZED", "error_messages": [], "correlation_id": "c-1"}),
        entry(0, 403, body={"error_messages": ["Not allowed"]}),
        entry(0, 404, body={"error_code": "NOT_FOUND", "error_messages": ["Session not found"]}),
        entry(0, 409, body={"error_code": "NOT_ALLOWED", "error_messages": ["x" * 400], "correlation_id": "y" * 50}),
        entry(0, 429, retry=True, ct="none", body=""),
        entry(0, 503, ct="html", body="<html>maintenance</html>"),
        entry(1, 200, body={"session_id": sid, "client_token": "eyJhbGciOiJub25lIn0.e30.",
                            "payment_method_categories": [{"identifier": "klarna"}]}),
        entry(2, 201, body=created),
        entry(2, 201, body={k: v for k, v in created.items() if k != "redirect_url"}),
        entry(2, 201, body=dict(created, expires_at="2026-02-30T00:00:00Z")),
    ]
    for st in ["WAITING", "IN_PROGRESS", "BACK", "MANUAL_ID_CHECK", "CANCELLED", "DISABLED", "FAILED", "ERROR", "NEW"]:
        out.append(entry(3, 200, body=dict(hpp_read, status=st)))
    out += [
        entry(3, 200, body=dict(hpp_read, status="COMPLETED", order_id=order["order_id"],
                                authorization_token="tok", klarna_reference="K4MADNY-1")),
        entry(3, 200, body=dict(hpp_read, status="COMPLETED")),
        entry(3, 200, body=dict(hpp_read, expires_at="2026-11-21T11:00:00Z")),
    ]
    for st, fraud in [("AUTHORIZED", "ACCEPTED"), ("CAPTURED", "ACCEPTED"), ("PART_CAPTURED", "ACCEPTED"),
                      ("AUTHORIZED", "PENDING"), ("AUTHORIZED", "REJECTED"), ("CANCELLED", "ACCEPTED"),
                      ("EXPIRED", "ACCEPTED"), ("CLOSED", None)]:
        o = dict(order, status=st)
        if fraud is None:
            del o["fraud_status"]
        else:
            o["fraud_status"] = fraud
        out.append(entry(4, 200, body=o))
    out += [
        entry(4, 200, body=dict(order, order_amount=12999)),
        entry(4, 200, body=dict(order, purchase_currency="SEK")),
        entry(5, 200, ct="png", body=png),
        entry(5, 200, ct="svg", body=svg),
        entry(5, 200, ct="html", body="<html>not an image</html>"),
        entry(5, 404, ct="json", body={"error_code": "NOT_FOUND"}),
        entry(5, 200, ct="png", body=b""),
    ]
    # The after-sale reads and answers: an order part captured, refunded, released, cancelled.
    cap = {"capture_id": "4ba29b50-be7b-44f5-a492-113e6a865e22", "captured_amount": 8000,
           "captured_at": "2026-11-21T12:03:00.000Z", "reference": "019b0f3e-8c2a-7d41-9e55-3f0a1b2c3d4e"}
    ref = {"refund_id": "b2cb4f2e-2781-4359-80ad-555735ebb8d8", "refunded_amount": 3500,
           "refunded_at": "2026-11-21T12:04:00.000Z", "reference": "019b0f3f-0000-7d41-9e55-3f0a1b2c3d4e"}
    part = dict(order, status="PART_CAPTURED", captured_amount=8000, refunded_amount=3500,
                remaining_authorized_amount=5000, expires_at="2026-12-19T12:02:00.000Z",
                captures=[cap], refunds=[ref])
    out += [
        entry(4, 200, body=part),
        entry(4, 200, body=dict(part, status="CLOSED", remaining_authorized_amount=0)),
        entry(4, 200, body=dict(order, status="CANCELLED", remaining_authorized_amount=0)),
        entry(4, 200, body=dict(part, refunded_amount=-1)),
        entry(4, 200, body={k: v for k, v in part.items() if k != "captured_amount"}),
        entry(6, 201, ct="none", body=cap["capture_id"]),
        entry(6, 201, ct="none", body=""),
        entry(6, 200, ct="html", body="<html><body><h1>502 Bad Gateway</h1></body></html>"),
        entry(6, 403, body={"error_code": "REFUND_NOT_ALLOWED",
                            "error_messages": ["Over refund is not allowed. Refund not possible."],
                            "correlation_id": "6a9b1cb1-3d8f-4f7b-a0b4-2c3d4e5f6a7b"}),
        entry(6, 404, body={"error_code": "NO_SUCH_ORDER", "error_messages": ["No such order"]}),
    ]
    write("klarna_response", out)


def commercelayer():
    order_attrs = {"number": "12345", "status": "pending", "payment_status": "unpaid",
                   "total_amount_with_taxes_cents": 13000, "total_tax_amount_cents": 1870,
                   "currency_code": "NOK", "expires_at": "2026-11-21T12:15:00.000Z"}

    def order(**kw):
        return {"id": "wBXVhKzrjQ", "type": "orders", "attributes": dict(order_attrs, **kw)}

    line = lambda ref, tax: {"id": "li" + ref, "type": "line_items",
                             "attributes": {"reference": ref, "tax_amount_cents": tax, "quantity": 1}}
    err = lambda status, code, title, detail, pointer=None: {"errors": [dict(
        {"title": title, "detail": detail, "code": code, "status": str(status)},
        **({"source": {"pointer": pointer}} if pointer else {}))]}
    out = [
        entry(0, 422, ct="jsonapi", body=err(422, "VALIDATION_ERROR", "can't be blank", "market - can't be blank", "/data/relationships/market")),
        entry(0, 401, ct="jsonapi", body=err(401, "INVALID_TOKEN", "Invalid token", "The access token you provided is invalid.")),
        entry(0, 404, ct="jsonapi", body=err(404, "RECORD_NOT_FOUND", "Record not found", "The requested resource was not found.")),
        entry(0, 400, ct="jsonapi", body={"errors": [
            {"title": "Invalid field", "detail": "foo is not a valid field for orders.", "code": "INVALID_FIELD", "source": {"parameter": "fields[orders]"}},
            {"title": "x" * 300}]}),
        entry(0, 429, retry=True, ct="jsonapi", body={"errors": []}),
        entry(0, 500, ct="html", body="<html>oops</html>"),
        entry(1, 200, body={"access_token": "eyJhbGciOiJIUzUxMiJ9.eyJvcmdhbml6YXRpb24iOnt9fQ.sig", "token_type": "bearer",
                            "expires_in": 7200, "scope": "market:all", "created_at": 1795262400}),
        entry(1, 200, body={"access_token": "t", "token_type": "bearer", "expires_in": 14400, "scope": "market:id:kGbnLhkXyZ"}),
        entry(1, 200, body={"access_token": "t", "token_type": "bearer", "expires_in": 18446744073709551615}),
        entry(1, 200, body={"access_token": "t", "token_type": "basic", "expires_in": 7200}),
        entry(1, 401, ct="jsonapi", body=err(401, "INVALID_CLIENT", "Invalid client", "Client authentication failed")),
        entry(2, 200, ct="jsonapi", body={"data": order()}),
        entry(2, 200, ct="jsonapi", body={"data": order(status="placed", payment_status="authorized")}),
        entry(2, 200, ct="jsonapi", body={"data": order(status="approved", payment_status="paid")}),
        entry(2, 200, ct="jsonapi", body={"data": order(status="placed", payment_status="paid", total_amount_with_taxes_cents=100)}),
        entry(2, 200, ct="jsonapi", body={"data": order(status="placed", payment_status="voided")}),
        entry(2, 200, ct="jsonapi", body={"data": order(status="cancelled")}),
        entry(2, 200, ct="jsonapi", body={"data": order(status="draft", expires_at="2026-11-21T11:00:00Z")}),
        entry(2, 200, ct="jsonapi", body={"data": order(status="editing")}),
        entry(2, 200, ct="jsonapi", body={"data": order(total_tax_amount_cents=1871),
                                          "included": [line("line-1", 1370), line("line-2", 501), line("line-x", 1)]}),
        entry(2, 201, ct="jsonapi", body={"data": order(currency_code="EUR", total_amount_with_taxes_cents=None),
                                          "included": [{"id": "pm1", "type": "payment_methods",
                                                        "attributes": {"payment_source_type": "checkout_com_payments"}}]}),
        entry(2, 201, ct="jsonapi", body={"data": {"id": "ck1", "type": "checkout_com_payments", "attributes": {
            "payment_session": {"id": "ps_2Pqs", "payment_session_secret": "pss_x"},
            "redirect_uri": "https://3ds.example/challenge"}}}),
        entry(2, 201, ct="jsonapi", body={"data": {"id": "lnk1", "type": "links", "attributes": {
            "url": "https://kassa-shop.commercelayer.link/lnk1", "status": "active"}}}),
        entry(2, 200, ct="jsonapi", body={"data": {"id": "kGbnLhkXyZ", "type": "markets", "attributes": {"name": "Norge", "code": "NO"}}}),
        entry(2, 200, ct="jsonapi", sale=2, body={"data": order(currency_code="EUR", total_amount_with_taxes_cents=1899, total_tax_amount_cents=367)}),
        entry(3, 200, ct="jsonapi", body={"data": [order(status="placed", payment_status="authorized"), order()]}),
        entry(3, 200, ct="jsonapi", body={"data": []}),
        entry(4, body="https://kassa.invalid/return"),
        entry(4, body="https://kassa.invalid/return?kassa=cancelled"),
        entry(4, body="https://kassa.invalid/return?kassa=done&x=%41"),
    ]
    # 5: an order read with its transactions (payment state, what a trigger made).
    tx = lambda ty, i, amount, ok, **kw: {"id": i, "type": ty, "attributes": dict(
        {"amount_cents": amount, "succeeded": ok, "created_at": "2026-11-21T12:0%d:00.000Z" % len(out)}, **kw)}
    paid = order(status="approved", payment_status="partially_refunded")
    out += [
        entry(5, 200, ct="jsonapi", body={"data": paid, "included": [
            tx("authorizations", "auth1", 13000, True, capture_balance_cents=0, void_balance_cents=0),
            tx("captures", "cap1", 13000, True, refund_balance_cents=8000, reference="op-1", reference_origin="kassa"),
            tx("refunds", "ref1", 5000, True),
            tx("refunds", "ref2", 1000, False, message="Declined - Do not honour", error_code="20005")]}),
        entry(5, 200, ct="jsonapi", body={"data": order(status="cancelled", payment_status="voided"), "included": [
            tx("authorizations", "auth1", 13000, True, capture_balance_cents=0, void_balance_cents=0),
            tx("voids", "void1", 13000, True)]}),
        entry(5, 200, ct="jsonapi", body={"data": paid, "included": [
            tx("captures", "c", 9223372036854775807, True), tx("captures", "d", 1, True)]}),
        entry(5, 200, ct="jsonapi", body={"data": paid, "included": [
            tx("captures", "c", -5, True), tx("captures", "c", 5, "yes")]}),
        entry(5, 422, ct="jsonapi", body=err(422, "VALIDATION_ERROR", "must be less than or equal to 8000",
                                              "_refund_amount_cents - must be less than or equal to 8000",
                                              "/data/attributes/_refund_amount_cents")),
    ]
    write("commercelayer_response", out)


def opencharge():
    err = lambda code, msg, details=None: {"error": dict({"code": code, "message": msg}, **({"details": details} if details else {}))}
    codes = ["INVALID_SIGNATURE", "TIMESTAMP_EXPIRED", "NONCE_REUSED", "UNKNOWN_OCID", "MERCHANT_NOT_REGISTERED",
             "AMOUNT_MISMATCH", "CAPABILITY_NOT_SUPPORTED", "SOMETHING_NEW"]
    statuses = [401, 401, 409, 401, 403, 400, 404, 400]
    out = [entry(0, st, body=err(c, f"{c.lower()} at the gateway")) for c, st in zip(codes, statuses)]
    out += [
        entry(0, 401, body=err("TIMESTAMP_EXPIRED", "", {"serverTime": 1795262700, "timestamp": 1795262400})),
        entry(0, 400, body=err("AMOUNT_MISMATCH", "order.amount 130.00 is not the sum", {"amount": "130.00", "itemsTotal": "129.99"})),
        entry(0, 429, retry=True, body=err("RATE_LIMITED", "slow down")),
        entry(0, 500, ct="html", body="<html>error</html>"),
        entry(0, 400, body={"error": {"message": "no code"}}),
        entry(1, 200, body={"checkout_url": "https://gw.example/opencharge/pg/pay/cs_1", "session_id": "cs_1", "expires_at": 1795263300}),
        entry(1, 200, body={"checkout_url": "https://gw.example/opencharge/pg/pay/cs_1", "session_id": "cs_1"}),
        entry(1, 200, body={"checkout_url": "javascript:alert(1)", "session_id": "cs_1"}),
        entry(1, 200, body={"checkout_url": "https://gw.example/p", "session_id": "cs_1", "expires_at": 9223372036854775807}),
        entry(1 | 8, 200, body={"checkout_url": "http://127.0.0.1:9/opencharge/pg/pay/cs_1", "session_id": "cs_1", "expires_at": -9223372036854775808}),
        entry(2, 200, body={"redirect_url": "https://mg.example/opencharge/pg/pay/cs_2"}),
        entry(2, 200, body={"redirect_url": "ftp://x"}),
        entry(3, 200, body="Sat, 21 Nov 2026 12:05:00 GMT\n" + json.dumps({"checkout_url": "https://gw.example/p", "session_id": "cs_1", "expires_at": 1795263300})),
        entry(3, 200, body="Sat, 21 Nov 2026 12:00:00 GMT\n" + json.dumps({"checkout_url": "https://gw.example/p", "session_id": "cs_1"})),
        entry(3, 401, body="\n" + json.dumps(err("TIMESTAMP_EXPIRED", "", {"serverTime": 1795262700, "timestamp": 1795262400}))),
        entry(3, 401, body="\n" + json.dumps(err("TIMESTAMP_EXPIRED", "", {"serverTime": 9223372036854775807}))),
        entry(3, 200, body="Thu, 29 Feb 2024 23:59:60 GMT\n{}"),
        entry(4, body="https://kassa.invalid/return"),
        entry(4, body="https://kassa.invalid/return?kassa=cancelled"),
        entry(4, body="https://kassa.invalid/return?kassa=cancelled#x"),
    ]
    # TV1 of the notes: the request signature and its canonical text (kassa-core's sign.rs tests).
    tv1_sig = "08bb6427e9df77920b3c08ba65e7b4d02436ce449441060198a5084f3ca7e82e6c33455681ed53a9125fd2616428a6fb0ecd59e8fc3459175f8759e15e37e9c11b"
    tv1_text = ("200\n1706500000\nreq_test123\nPOST\n/opencharge/payment/create\n"
                "6779770784a6b90aab2c50ad2c48f58eb4d1dc8017e65c5850cdb0869b7060ce")
    tv3 = {"accepts": [100, 101, 102], "amount": "99.99", "createdAt": 1706313600, "currency": "USD",
           "expiresAt": 1706400000, "id": "ord_abc123", "memo": "Order from Merchant Store", "ocid": 500,
           "reference": "INV-001", "items": [{"id": "item_001", "name": "Product A", "quantity": 1, "price": "99.99"}]}
    proof = {"txid": "test_tx_001", "issuer": 100, "timestamp": 1706500500,
             "to": {"reference": "momo_tx_789", "ocid": 300}, "from": {"reference": "paypal_tx_123", "ocid": 200},
             "currency": "UGX", "amount": "10000.00"}
    out += [
        entry(5, body=tv1_sig + "\n" + tv1_text),
        entry(5, body=tv1_sig[:128] + "\n" + tv1_text),
        entry(5, body="zz" * 64 + "\n" + tv1_text),
        entry(5, body="a" * 127 + "é" + "a\n" + tv1_text),
        entry(6, body=tv1_text),
        entry(6, body=json.dumps(proof, separators=(",", ":"))),
        entry(7, body=json.dumps(tv3)),
        entry(7, body=json.dumps(proof)),
        entry(7, body='{"a":1.5}'),
        entry(7, body='{"é":"\\u0001\\"\\\\","b":[null,true,-1,18446744073709551615]}'),
    ]
    write("opencharge_response", out)


if __name__ == "__main__":
    dintero()
    bambora()
    klarna()
    commercelayer()
    opencharge()
