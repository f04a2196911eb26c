"""Written forms the recognizers used to miss (issue 11): ``+`` numbers with long digit groups, IPv6, SSNs with
spaces or dots, IDN e-mail domains, IBANs in lower case, with dashes or irregular groups, Diners, Maestro and
Dankort cards, full-width digits. Tables of (text, entity types reported) and properties over generated values."""

from __future__ import annotations

import ipaddress

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from stdnum import iban, luhn, numdb
from stdnum.us import ssn

from scanner.demo import resident_id
from scanner.detection.engine import Detector
from scanner.detection.recognizers.ip_address import IpAddressRecognizer
from scanner.detection.recognizers.phone_number import NATIONAL_REGIONS
from scanner.model import Chunk

FULLWIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")
RID = resident_id("11010519850312001")
GERMAN_IBAN = "DE89370400440532013000"
NORWEGIAN_IBAN = "NO9386011117947"


def _luhn(partial: str) -> str:
    return partial + luhn.calc_check_digit(partial)


CASES = [
    # (text, entity types reported, in order)
    # -- "+" numbers with digit groups longer than five, or the national number in one piece
    ("tel +44 7826 581931", ["PHONE_NUMBER"]),
    ("tel +49 151 20736565", ["PHONE_NUMBER"]),
    ("call +91 4155550132 now", ["PHONE_NUMBER"]),
    ("fax +1 2025550143", ["PHONE_NUMBER"]),
    ("tel +39 0212345678", ["PHONE_NUMBER"]),  # Italian numbers keep their leading 0 after +39
    ("tel +44 20 7946 0958 12 items", ["PHONE_NUMBER"]),  # the candidate that takes "12" along fails; its start holds
    ("contact +49 15123438564", ["PHONE_NUMBER"]),  # a German mobile whose digits are also a mainland one
    ("tel +86 138 1234 5678", ["CN_MOBILE_NUMBER"]),
    ("tel +44 7826 58193", []),  # one digit short: neither it nor its tail as a national number
    ("build +1234567 ok", []),
    # -- national formats next to a phone word only, valid in one of the national regions
    ("电话 010-6552 9988", ["PHONE_NUMBER"]),
    ("phone (415) 555-0132", ["PHONE_NUMBER"]),
    ("fax 020 7946 0958", ["PHONE_NUMBER"]),
    ("ref 020 7946 0958", []),
    ("call 2024-11-24", []),  # a date
    ("tel 138 1234 5678", ["CN_MOBILE_NUMBER"]),
    ("tel 1234 5678", []),
    ("ref 020 7946 0958, tel: 020 7946 0959", ["PHONE_NUMBER"]),  # the phone word stands before the second only
    # -- IPv6: global unicast with context; link-local, unique-local, loopback, documentation are not a person's
    ("client_ip=2a00:1450:4001:81c::200e ok", ["IP_ADDRESS"]),
    ("remote_addr=2606:4700:4700:0:0:0:0:1111", ["IP_ADDRESS"]),
    ("client ip [2a03:2880:f10d:83:face:b00c::25de]:443", ["IP_ADDRESS"]),
    ("client ip 2A00:1450:4001:81C::200E", ["IP_ADDRESS"]),
    ("2a00:1450:4001:81c::200e - - GET /", []),  # no context
    ("client ip fe80::1ff:fe23:4567:890a", []),
    ("client ip fd12:3456:789a::1", []),
    ("client ip ::1", []),
    ("client ip 2001:db8::42", []),  # RFC 3849 documentation prefix
    ("client ip 2001::1", []),  # Teredo (RFC 4380): special-purpose
    ("ip 12:30:45 and 00:1a:2b:3c:4d:5e", []),  # a time and a MAC
    ("ip std::vector and Base::add", []),
    # -- SSNs with spaces or dots, next to a context word only; the SSA-invalid ones stay rejected
    ("ssn 078 05 1123", ["US_SSN"]),
    ("SSN: 078.05.1123", ["US_SSN"]),
    ("social security 536 22 1234", ["US_SSN"]),
    ("ssn 078-05-1120", []),  # Woolworth wallet card number (SSA: never valid)
    ("ssn 078 05 1120", []),
    ("ssn 219.09.9999", []),  # advertising number
    ("ssn 666 22 1234", []),  # area 666 never issued
    ("ssn 536 00 1234", []),  # group 00
    ("qty 536 22 1234 units", []),  # no context: three groups of digits
    ("version 536.22.1234", []),
    # -- IDN e-mail domains in their ASCII form
    ("mail li@xn--55qx5d.xn--fiqs8s", ["EMAIL_ADDRESS"]),
    ("mail j.mueller@xn--mller-kva.de", ["EMAIL_ADDRESS"]),
    ("mail ivan@xn--80aswg.xn--p1ai", ["EMAIL_ADDRESS"]),
    ("mail li@xn--fiqs8s", []),  # a bare public suffix is no registrable domain
    ("mail a@b.xn--", []),
    # -- IBANs as people write them, next to IBAN or account: the check digits still decide
    (f"iban {GERMAN_IBAN.lower()}", ["IBAN_CODE"]),
    ("IBAN: DE89-3704-0044-0532-0130-00", ["IBAN_CODE"]),
    ("iban DE89 3704 0044 0532 013000 and more", ["IBAN_CODE"]),
    ("IBAN NO 93 86011117947 ok", ["IBAN_CODE"]),
    ("account de89 3704 0044 0532 0130 00", ["IBAN_CODE"]),
    (f"ref {GERMAN_IBAN.lower()}", []),  # lower case without context
    ("ref DE89-3704-0044-0532-0130-00", []),
    ("iban de89370400440532013001", []),  # check digits fail
    (f"ref {GERMAN_IBAN}", ["IBAN_CODE"]),  # the electronic form needs no context
    # -- Diners (14 digits), Maestro, Dankort
    ("card 30569309025904", ["CREDIT_CARD"]),
    ("card 3056 930902 5904", ["CREDIT_CARD"]),
    ("paid 38520000023237 ok", ["CREDIT_CARD"]),
    ("card 6759649826438453", ["CREDIT_CARD"]),
    ("card 6759 6498 2643 8453", ["CREDIT_CARD"]),
    (f"卡号 {_luhn('501800000000000000')}", ["CREDIT_CARD"]),  # a 19-digit Maestro, not a domestic card
    ("card 5019717010103742", ["CREDIT_CARD"]),
    ("卡号 5019717010103742", ["CREDIT_CARD"]),
    ("card 30569309025905", []),  # Luhn fails
    (f"order {_luhn('67590000000000000')}", []),  # 18 digits: no Maestro length here
    # -- full-width digits in Chinese text
    (f"身份证号{RID.translate(FULLWIDTH)}，请核对", ["CN_RESIDENT_ID"]),
    ("联系电话：１３８１２３４５６７８", ["CN_MOBILE_NUMBER"]),
    ("手机：１３８ １２３４ ５６７８", ["CN_MOBILE_NUMBER"]),
    (f"身份证{RID.translate(FULLWIDTH)}、手机１３８１２３４５６７８", ["CN_RESIDENT_ID", "CN_MOBILE_NUMBER"]),
    ("金额：１３８１２３４５６７８．００元", []),  # an amount
    ("编号１３８１２３４５６７８９", []),  # twelve digits
]


@pytest.fixture(scope="module", params=["hyperscan", "re"])
def detector(request: pytest.FixtureRequest) -> Detector:
    return Detector(use_hyperscan=request.param == "hyperscan")


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_recall_table(detector: Detector, text: str, expected: list[str]) -> None:
    assert [m.entity_type for m in detector.scan(Chunk(text.encode("utf-8"))).matches] == expected


def _found(detector: Detector, text: str) -> list[tuple[str, str]]:
    """(entity type, the reported span's text) of every match in ``text``."""
    data = text.encode("utf-8")
    return [(m.entity_type, data[m.start : m.end].decode("utf-8"))
            for m in detector.scan(Chunk(data)).matches]


# -- properties -----------------------------------------------------------------------------------------------

REGIONS = ["GB", "DE", "FR", "US", "IN", "JP", "AU", "BR", "SG", "NL", "ES", "IT", "SE", "PL", "ZA", "MX"]


@st.composite
def valid_phones(draw: st.DrawFn) -> phonenumbers.PhoneNumber:
    region = draw(st.sampled_from(REGIONS))
    kind = draw(st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]))
    example = phonenumbers.example_number_for_type(region, kind)
    national = str(example.national_number)
    keep = max(2, len(national) - 4)
    tail = draw(st.text(alphabet="0123456789", min_size=len(national) - keep, max_size=len(national) - keep))
    number = phonenumbers.parse(f"+{example.country_code}{national[:keep]}{tail}", None)
    assume(phonenumbers.is_valid_number(number))
    return number


@settings(max_examples=300, deadline=None)
@given(valid_phones(), st.sampled_from(["international", "e164", "split"]))
def test_valid_international_numbers_are_found_in_their_written_forms(number: phonenumbers.PhoneNumber,
                                                                      style: str) -> None:
    if style == "international":
        written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    elif style == "e164":
        written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    else:
        written = f"+{number.country_code} {phonenumbers.national_significant_number(number)}"
    assert _found(Detector(), f"customer callback number {written} queued") == [("PHONE_NUMBER", written)]


@settings(max_examples=200, deadline=None)
@given(valid_phones())
def test_national_numbers_are_found_next_to_a_phone_word_only(number: phonenumbers.PhoneNumber) -> None:
    """Numbers of the national regions, written as libphonenumber formats them nationally (with a separator:
    a bare digit run is never a candidate), are found after "call" and not after "order"."""
    written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    assume(not written.isdigit())
    assume(phonenumbers.region_code_for_number(number) in NATIONAL_REGIONS)
    assert _found(Detector(), f"please call {written} today") == [("PHONE_NUMBER", written)]
    assert _found(Detector(), f"order {written} today") == []


@settings(max_examples=500, deadline=None)
@given(st.ip_addresses(v=6) | st.sampled_from([ipaddress.IPv6Address(a) for a in (
    "2001:db8::1", "fe80::1", "fd00::1", "::1", "2001::1", "2002:c000:0204::1", "2620:fe::fe", "3fff::1")]))
def test_ipv6_validation_is_global_unicast_and_global(address: ipaddress.IPv6Address) -> None:
    expected = address in ipaddress.ip_network("2000::/3") and address.is_global
    rec = IpAddressRecognizer()
    assert rec.validate(rec.normalize(address.compressed)) == expected
    assert rec.validate(rec.normalize(address.exploded.upper())) == expected


@settings(max_examples=300, deadline=None)
@given(st.integers(0, (1 << 125) - 1), st.sampled_from(["compressed", "exploded", "upper"]))
def test_global_ipv6_addresses_are_found_with_context(bits: int, style: str) -> None:
    address = ipaddress.IPv6Address((1 << 125) | bits)  # 2000::/3
    assume(address.is_global)
    written = {"compressed": address.compressed, "exploded": address.exploded,
               "upper": address.compressed.upper()}[style]
    assert _found(Detector(), f"login ok client_ip={written} ua=okhttp") == [("IP_ADDRESS", written)]
    assert _found(Detector(), f"route {written} ok") == []


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 899), st.integers(1, 99), st.integers(1, 9999), st.sampled_from([" ", ".", "-"]))
def test_ssns_in_three_groups_follow_stdnum_with_context(area: int, group: int, serial: int, separator: str) -> None:
    digits = f"{area:03d}{group:02d}{serial:04d}"
    written = separator.join((digits[:3], digits[3:5], digits[5:]))
    expected = [("US_SSN", written)] if ssn.is_valid(digits) else []
    assert _found(Detector(), f"applicant ssn {written} on file") == expected
    if separator != "-":
        assert _found(Detector(), f"count {written} on file") == []


@st.composite
def valid_ibans(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from(["DE", "GB", "FR", "NL", "IT", "ES", "CH", "BE", "NO", "AT", "PL", "MU"]))
    structure = numdb.get("iban").info(country)[0][1]["bban"]
    bban = draw(st.from_regex(iban._struct_to_re(structure), fullmatch=True)).upper()
    value = country + iban.calc_check_digits(f"{country}00{bban}") + bban
    assume(iban.is_valid(value))  # the national check (Norway's MOD 11, France's RIB key) holds too
    return value


def _written(value: str, style: str) -> str:
    if style == "lower":
        return value.lower()
    if style == "dashed":
        return "-".join(value[i : i + 4] for i in range(0, len(value), 4))
    if style == "irregular":
        return f"{value[:2]} {value[2:4]} {value[4:9]} {value[9:]}"
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4)).lower()


@settings(max_examples=300, deadline=None)
@given(valid_ibans(), st.sampled_from(["lower", "dashed", "irregular", "lower grouped"]))
def test_ibans_as_people_write_them_are_found_next_to_iban(value: str, style: str) -> None:
    written = _written(value, style)
    assert _found(Detector(), f"beneficiary IBAN {written} verified") == [("IBAN_CODE", written)]
    assert _found(Detector(), f"ref {written} verified") == []
    broken = value[:-1] + ("0" if value[-1] != "0" else "1")
    if not iban.is_valid(broken):  # (a letter replaced by a digit can keep MOD 97-10)
        assert _found(Detector(), f"beneficiary IBAN {_written(broken, style)} verified") == []


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["300", "305", "3095", "36", "38", "39", "6759", "6304", "5018", "5020", "5893", "6763",
                        "5019"]), st.data())
def test_diners_maestro_and_dankort_cards_are_credit_cards(prefix: str, data: st.DataObject) -> None:
    lengths = [14] if prefix[0] == "3" else ([16] if prefix == "5019" else [16, 19])
    length = data.draw(st.sampled_from(lengths))
    body = prefix + data.draw(st.text(alphabet="0123456789", min_size=length - len(prefix) - 1,
                                      max_size=length - len(prefix) - 1))
    number = body + luhn.calc_check_digit(body)
    assert _found(Detector(), f"card {number} ok") == [("CREDIT_CARD", number)]
    position = data.draw(st.integers(0, length - 1))
    digit = data.draw(st.sampled_from("0123456789"))
    changed = number[:position] + digit + number[position + 1 :]
    if changed != number:
        assert _found(Detector(), f"card {changed} ok") == []


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="一二三四五六七八九十，。：；（）号码证身份手机客户张王李", max_size=12),
       st.sampled_from([RID, resident_id("44030419900701002"), "13812345678", "15912345678"]),
       st.text(alphabet="一二三四五六七八九十，。：；（）号码证客户张王李 \n", max_size=12),
       st.booleans())
def test_full_width_values_are_found_at_their_own_bytes(before: str, value: str, after: str, both: bool) -> None:
    """Full-width digits are read as ASCII and the match points at the full-width bytes (three per digit),
    also after other full-width values in the same text."""
    written = value.translate(FULLWIDTH)
    prefix = f"证件 {RID.translate(FULLWIDTH)} " if both else ""
    text = f"{prefix}{before}身份证号 {written} {after}"
    found = _found(Detector(), text)
    assert found[-1] == ("CN_RESIDENT_ID" if len(value) == 18 else "CN_MOBILE_NUMBER", written)
    assert len(found) == (2 if both else 1)


# -- fragments: a token that is not taken is not read as a shorter value of another type ------------------------


def _uscc_shaped_rejected_id() -> str:
    """ID-shaped (a real county, a birth date) ending in X that fails the ID check and passes GB 32100's."""
    from stdnum.cn import ric, uscc

    for sequence in range(1000):
        body = f"11010519900101{sequence:03d}"
        if uscc.calc_check_digit(body + "X") == "X" and ric.calc_check_digit(body + "0") != "X":
            return body + "X"
    raise AssertionError("no such number")


def _card_shaped_rejected_id() -> str:
    """ID-shaped with a Gansu (62) county code and a Luhn check digit that is not the ID's check character."""
    from stdnum.cn import ric

    for sequence in range(1000):
        body = f"62010219900101{sequence:03d}"
        check = luhn.calc_check_digit(body)
        if check != ric.calc_check_digit(body + "0"):
            return body + check
    raise AssertionError("no such number")


def _with_bad_check_digits(value: str) -> str:
    for digits in range(100):
        candidate = f"{value[:2]}{digits:02d}{value[4:]}"
        if not iban.is_valid(candidate):
            return candidate
    raise AssertionError("no such number")


VISA = "4111111111111111"
BAD_DE = _with_bad_check_digits(f"DE00{VISA}00")
BAD_NO = _with_bad_check_digits("NO0013812345678")

FRAGMENT_CASES = [
    # an invalid IBAN's digits are not a card or a mobile number
    (f"iban {' '.join(BAD_DE[i:i + 4] for i in range(0, 22, 4))} rejected", []),
    (f"ref {' '.join(BAD_DE[i:i + 4] for i in range(0, 22, 4))} rejected", []),
    (f"iban {'-'.join(BAD_DE[i:i + 4] for i in range(0, 22, 4)).lower()} rejected", []),
    (f"account {BAD_NO[:2]} {BAD_NO[2:4]} {BAD_NO[4:]} rejected", []),
    (f"ref {BAD_NO[:2]} {BAD_NO[2:4]} {BAD_NO[4:]}", []),
    (f"{BAD_NO}", []),
    # ... but the same digits with a valid IBAN around them are the IBAN, and alone they are what they are
    (f"iban {iban.format('DE00' + VISA + '00').replace('DE00', 'DE' + iban.calc_check_digits('DE00' + VISA + '00'))}",
     ["IBAN_CODE"]),
    (f"card {' '.join(VISA[i:i + 4] for i in range(0, 16, 4))}", ["CREDIT_CARD"]),
    ("call no 12 13812345678", ["CN_MOBILE_NUMBER"]),  # "number 12", not a Norwegian IBAN
    ("mobile 13812345678", ["CN_MOBILE_NUMBER"]),
    # rejected resident IDs are not cards or credit codes
    (f"ref {_card_shaped_rejected_id()} ok", []),
    (f"code {_uscc_shaped_rejected_id()} ok", []),
    # ... unless the other type's own context word or field says so
    (f"卡号 {_card_shaped_rejected_id()}", ["CN_BANK_CARD"]),
    (f"统一社会信用代码 {_uscc_shaped_rejected_id()}", ["CN_USCC"]),
]


@pytest.mark.parametrize(("text", "expected"), FRAGMENT_CASES)
def test_fragments_of_rejected_tokens_are_not_values(detector: Detector, text: str, expected: list[str]) -> None:
    assert [m.entity_type for m in detector.scan(Chunk(text.encode("utf-8"))).matches] == expected


MASTERCARD = "5555 5555 5555 4444"

GROUP_RUN_CASES = [
    # a value written in digit groups ends where its groups end: inside a longer run it is a table
    (f"card {MASTERCARD}", ["CREDIT_CARD"]),
    (f"{MASTERCARD} 2561 2562", []),  # code points of a charset map
    (f"2593 {MASTERCARD}", []),
    (f"{MASTERCARD} 20BBF 20BC6", []),  # hex code points of another width
    (f"{MASTERCARD.replace(' ', '-')}-2561", []),
    (f"card {MASTERCARD} 12/25", ["CREDIT_CARD"]),  # an expiry date is not a group of the run
    (f"card {MASTERCARD} exp 1225", ["CREDIT_CARD"]),
    (f"card {MASTERCARD} 123", ["CREDIT_CARD"]),  # one short number after it (a CVV) is not a run
    ("insert ( 493 11 10 603 16 0 0 138 1300 1301 )", []),  # object IDs of a catalogue row
    ("mobile 138 1234 5678", ["CN_MOBILE_NUMBER"]),
    ("tel 138 1234 5678 or 139 1234 5678", ["CN_MOBILE_NUMBER", "CN_MOBILE_NUMBER"]),
]


@pytest.mark.parametrize(("text", "expected"), GROUP_RUN_CASES)
def test_values_in_runs_of_digit_groups_are_not_values(detector: Detector, text: str, expected: list[str]) -> None:
    assert [m.entity_type for m in detector.scan(Chunk(text.encode("utf-8"))).matches] == expected


# -- cases informed by Presidio's recognizer tests (microsoft/presidio, presidio-analyzer/tests/test_*_recognizer.py):
# where the value is personal data by privscan's policy the verdicts agree; the deliberate differences are marked

PRESIDIO_INFORMED = [
    # (text, entity types reported, deliberate difference from Presidio's verdict or "")
    ("my email address is anna.schmidt@presidio.site", ["EMAIL_ADDRESS"], ""),
    ("user@xn--80ak6aa92e.com", ["EMAIL_ADDRESS"], ""),
    ("a@xn--d1acufc.xn--p1ai", ["EMAIL_ADDRESS"], ""),
    ("my email is zhang@presidio.", [], ""),
    ("this is not an email: hello-world here", [], ""),
    ("my email address is info@presidio.site", [], "a role mailbox (RFC 2142) is not a person's"),
    ("4012888888881881 4012-8888-8888-1881 4012 8888 8888 1881", ["CREDIT_CARD"] * 3, ""),
    ("371449635398431", ["CREDIT_CARD"], ""),
    ("5019717010103742", ["CREDIT_CARD"], ""),
    ("30569309025904", ["CREDIT_CARD"], ""),
    ("6011000400000000", ["CREDIT_CARD"], ""),
    ("3528000700000000", ["CREDIT_CARD"], ""),
    ("6759649826438453", ["CREDIT_CARD"], ""),
    ("4484070000000000", ["CREDIT_CARD"], ""),
    ("1748503543012", [], ""),
    ("my credit card number is 4012-8888-8888-1882", [], ""),
    ("36168002586008", [], ""),
    ("my credit card: 122000000000003", [], "UATP (15 digits from 1) is no candidate: mostly counters and times"),
    ("AL47 2121 1009 0000 0002 3569 8741", ["IBAN_CODE"], ""),
    ("AL47 212A 1009 0000 0002 3569 8741", [], ""),
    ("BE71 0961 2345 6769", ["IBAN_CODE"], ""),
    ("FR14 2004 1010 0505 0001 3M02 606", ["IBAN_CODE"], ""),
    ("GI75 aWBK 0000 0000 7099 453", [], ""),
    ("BE68539007547034", [], "the Belgian account's own check (stdnum.be.iban) fails, MOD 97-10 alone passes"),
    ("my ip is 2400:c401::5054:ff:fe1b:b031", ["IP_ADDRESS"], ""),
    ("Server IP: 2400:c401::5054:ff:fe1b:b031.", ["IP_ADDRESS"], ""),
    ("client ip (203.0.114.7)", ["IP_ADDRESS"], ""),
    ("client ip 203.0.114.7.", ["IP_ADDRESS"], ""),
    ("client ip 203.0.114.7.1", [], ""),
    ("MAC address aa:bb:cc:dd:ee:ff", [], ""),
    ("Time 12:34:56", [], ""),
    ("std::cout", [], ""),
    ("IP192.168.1.1text", [], ""),
    ("2400:c401::5054:ff:fe1b:b031", [], "an IP address needs a context word or field (client ip, remote_addr …)"),
    ("IPv4: 192.168.1.1, IPv6: 2001:db8::1", [], "private and documentation addresses are not personal data"),
    ("my ip: ::1", [], "loopback is not personal data"),
    ("Gateway: fe80::1 on interface", [], "link-local is not personal data"),
    ("my ip: 684D:1111:222:3333:4444:5555:6:77", [], "outside global unicast 2000::/3: no one's address"),
    ("078-05-1123", ["US_SSN"], ""),
    ("ssn 078.05.1123", ["US_SSN"], ""),
    ("078-05-0000", [], ""),
    ("ssn 078 00 1123", [], ""),
    ("693-09.4444", [], ""),
    ("078 05 1123", [], "an SSN with spaces or dots needs a context word"),
    ("078051121", [], "nine bare digits are never an SSN candidate"),
    ("my international one is +1 415 555 0132", ["PHONE_NUMBER"], ""),
    ("Brazil: +55 11 98456 5666", ["PHONE_NUMBER"], ""),
    ("my international one is +44 (20) 7123 4567", ["PHONE_NUMBER"], ""),
    ("my international one is +30 21 0 1234567", ["PHONE_NUMBER"], ""),
    ("my international one is +33 1 42 68 53 00", ["PHONE_NUMBER"], ""),
    ("my international one is +39 06 678 4343", ["PHONE_NUMBER"], ""),
    ("My US phone is (415) 555-0132", ["PHONE_NUMBER"], ""),
    ("call me at 090-1234-5678", ["PHONE_NUMBER"], ""),
    ("tel 09-7625400", ["PHONE_NUMBER"], ""),
    ("My CN number is 13812345678", ["CN_MOBILE_NUMBER"], ""),
    ("My US number is (415) 555-0132", [], "a national-format number needs a phone word; 'number' is not one"),
    ("US: 415-555-0132", [], "a national-format number needs a phone word"),
]


@pytest.mark.parametrize(("text", "expected", "difference"), PRESIDIO_INFORMED)
def test_presidio_informed_cases(detector: Detector, text: str, expected: list[str], difference: str) -> None:
    assert [m.entity_type for m in detector.scan(Chunk(text.encode("utf-8"))).matches] == expected
