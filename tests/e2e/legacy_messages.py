# legacy_messages.py — iWmo 3.2 messages for the end-to-end tests of the legacy system, built from the official
# examples in tests/data/conformance/iwmo-3.2 (copied from shared/conformance) with the demo network's codes, fresh Identificaties and current dates.
"""Builders for WMO315/301/305/307/323/325 that pass knoopd's levels 1 and 2 and its assignment ledger.

Every builder starts from an official example (or, for the 325, the derived example) and changes only what a real
exchange changes: Afzender/Ontvanger, Identificatie, Dagtekening, dates and the assignment the message refers to.
One assignment (`Assignment`) ties a 301 to the 305/307/323 that refer to it, so the ledger accepts them.
Also: ``validate(payload)`` runs build/knoop-xml validate on a received payload (level 1 and 2).
"""

import datetime
import os
import re
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CONFORMANCE = os.environ.get("KNOOP_CONFORMANCE", os.path.join(REPO, "tests", "data", "conformance"))
EXAMPLES = os.path.join(CONFORMANCE, "iwmo-3.2", "examples")
DERIVED = os.path.join(CONFORMANCE, "iwmo-3.2", "examples-derived")
BUILD = os.path.abspath(os.environ.get("KNOOP_BUILD", os.path.join(REPO, "build")))

SITTARD = "1883"             # Sittard-Geleen: legacy, iwmo-3.2, outputgericht (deploy/knoopd.yaml)
MEMBER = "99990001"          # a member of the sittard-geleen contract
BSN = "999900006"            # the examples' client; passes the 11-test


def demo_network():
    """The `network:` section of deploy/knoopd.yaml (the demo network), as text for harness.Daemon(network=...)."""
    with open(os.path.join(REPO, "deploy", "knoopd.yaml"), encoding="utf-8") as f:
        text = f.read()
    return text[text.index("\nnetwork:") + 1:]


def today():
    """The date knoopd checks Dagtekening against (Europe/Amsterdam; UTC is close enough outside midnight)."""
    return datetime.date.today()


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def set_tag(xml, tag, value, nth=0):
    """Replaces the text of the nth element whose qualified name ends in `tag` (e.g. 'Afzender', 'iwmo:Datum')."""
    pat = re.compile(r"(<(?:[\w]+:)?%s>)([^<]*)(</(?:[\w]+:)?%s>)" % (re.escape(tag), re.escape(tag)))
    matches = list(pat.finditer(xml))
    if len(matches) <= nth:
        raise ValueError("no element %s #%d" % (tag, nth))
    m = matches[nth]
    return xml[:m.start(2)] + str(value) + xml[m.end(2):]


def keep_first(xml, tag):
    """Removes every element `tag` (with its content) but the first; blocks of the same name do not nest."""
    pat = re.compile(r"\s*<([\w]+:)?%s>.*?</([\w]+:)?%s>" % (re.escape(tag), re.escape(tag)), re.S)
    matches = list(pat.finditer(xml))
    for m in reversed(matches[1:]):
        xml = xml[:m.start()] + xml[m.end():]
    return xml


def header(xml, sender, receiver, ident, dagtekening=None):
    xml = set_tag(xml, "Afzender", sender)
    xml = set_tag(xml, "Ontvanger", receiver)
    xml = set_tag(xml, "Identificatie", ident)          # the first one is the Header's BerichtIdentificatie
    return set_tag(xml, "Dagtekening", (dagtekening or today()).isoformat())


class Assignment:
    """One ToegewezenProduct: what the 301 assigns and the 305/307/323 refer to."""

    def __init__(self, nummer="101", categorie="01", code="01A01", begin=None, end=None, bsn=BSN):
        t = today()
        first_of_last_month = (t.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
        self.nummer, self.categorie, self.code, self.bsn = nummer, categorie, code, bsn
        self.begin = begin or first_of_last_month
        self.end = end or datetime.date(t.year + 1, 12, 31)
        self.start = self.begin + datetime.timedelta(days=4)                        # 305 Begindatum
        self.period_end = t.replace(day=1) - datetime.timedelta(days=1)            # last day of last month


def wmo315(ident, a, sender=MEMBER, receiver=SITTARD):
    xml = header(_read(os.path.join(EXAMPLES, "WMO315.xml")), sender, receiver, ident)
    xml = keep_first(xml, "AangevraagdProduct")
    xml = set_tag(xml, "Bsn", a.bsn)
    xml = set_tag(xml, "Categorie", a.categorie)
    xml = set_tag(xml, "Code", a.code)
    xml = set_tag(xml, "BeschikkingIngangsdatum", a.begin.isoformat())
    xml = set_tag(xml, "ToewijzingIngangsdatum", a.begin.isoformat())
    xml = set_tag(xml, "ToewijzingEinddatum", a.end.isoformat())
    return xml.encode()


def wmo301(ident, a, sender=SITTARD, receiver=MEMBER):
    xml = header(_read(os.path.join(EXAMPLES, "WMO301.xml")), sender, receiver, ident)
    xml = set_tag(xml, "Bsn", a.bsn)
    xml = set_tag(xml, "ToewijzingNummer", a.nummer)
    xml = set_tag(xml, "Categorie", a.categorie)
    xml = set_tag(xml, "Code", a.code)
    xml = set_tag(xml, "Toewijzingsdatum", today().isoformat())
    xml = set_tag(xml, "Ingangsdatum", a.begin.isoformat())
    xml = set_tag(xml, "Einddatum", a.end.isoformat())
    return xml.encode()


def wmo305(ident, a, sender=MEMBER, receiver=SITTARD, nummer=None):
    xml = header(_read(os.path.join(EXAMPLES, "WMO305.xml")), sender, receiver, ident)
    xml = keep_first(xml, "StartProduct")
    xml = set_tag(xml, "Bsn", a.bsn)
    xml = set_tag(xml, "ToewijzingNummer", nummer or a.nummer)
    xml = set_tag(xml, "Categorie", a.categorie)
    xml = set_tag(xml, "Code", a.code)
    xml = set_tag(xml, "ToewijzingIngangsdatum", a.begin.isoformat())
    xml = set_tag(xml, "Begindatum", a.start.isoformat())
    return xml.encode()


def wmo307(ident, a, sender=MEMBER, receiver=SITTARD, einddatum=None):
    xml = header(_read(os.path.join(EXAMPLES, "WMO307.xml")), sender, receiver, ident)
    xml = keep_first(xml, "StopProduct")
    xml = set_tag(xml, "Bsn", a.bsn)
    xml = set_tag(xml, "ToewijzingNummer", a.nummer)
    xml = set_tag(xml, "Categorie", a.categorie)
    xml = set_tag(xml, "Code", a.code)
    xml = set_tag(xml, "ToewijzingIngangsdatum", a.begin.isoformat())
    xml = set_tag(xml, "Begindatum", a.start.isoformat())
    xml = set_tag(xml, "Einddatum", (einddatum or today()).isoformat())
    return xml.encode()


def wmo323(ident, a, sender=MEMBER, receiver=SITTARD, nummer=None, declaratie="DN001"):
    """One Client, one Prestatie over last month: 4 x 1250 = 5000 eurocents."""
    xml = header(_read(os.path.join(EXAMPLES, "WMO323.xml")), sender, receiver, ident)
    xml = keep_first(xml, "Client")
    xml = keep_first(xml, "Prestatie")
    first = a.period_end.replace(day=1)
    xml = set_tag(xml, "DeclaratieNummer", declaratie)
    xml = set_tag(xml, "Begindatum", first.isoformat(), 0)          # DeclaratiePeriode
    xml = set_tag(xml, "Einddatum", a.period_end.isoformat(), 0)
    xml = set_tag(xml, "DeclaratieDagtekening", today().isoformat())
    xml = set_tag(xml, "TotaalBedrag", "5000")
    xml = set_tag(xml, "Bsn", a.bsn)
    xml = set_tag(xml, "ToewijzingNummer", nummer or a.nummer)
    xml = set_tag(xml, "ProductCategorie", a.categorie)
    xml = set_tag(xml, "ProductCode", a.code)
    xml = set_tag(xml, "Begindatum", max(first, a.begin).isoformat(), 1)   # ProductPeriode
    xml = set_tag(xml, "Einddatum", a.period_end.isoformat(), 1)
    xml = set_tag(xml, "GeleverdVolume", "4")
    xml = set_tag(xml, "ProductTarief", "1250")
    xml = set_tag(xml, "Bedrag", "5000")
    return xml.encode()


def wmo325(ident, decl_ident, decl_dagtekening, sender=SITTARD, receiver=MEMBER, declaratie="DN001", total=5000):
    """The municipality's answer granting the whole 323 (RetourCode 8001)."""
    xml = header(_read(os.path.join(DERIVED, "WMO325-accepted.xml")), sender, receiver, ident)
    xml = set_tag(xml, "Identificatie", decl_ident, 1)               # DeclaratieIdentificatie
    xml = set_tag(xml, "Dagtekening", decl_dagtekening.isoformat(), 1)
    xml = set_tag(xml, "DeclaratieNummer", declaratie)
    xml = set_tag(xml, "TotaalBedrag", str(total), 0)
    xml = set_tag(xml, "TotaalBedrag", str(total), 1)
    return xml.encode()


def header_of(payload):
    """A few Header fields of a received message, for checks: BerichtCode, Afzender, Ontvanger, Identificatie,
    IdentificatieRetour (retours), RetourCodes (all, in document order)."""
    text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    out = {}
    for tag in ("BerichtCode", "Afzender", "Ontvanger", "Identificatie"):
        m = re.search(r"<(?:\w+:)?%s>([^<]*)</" % tag, text)
        out[tag] = m.group(1) if m else None
    m = re.search(r"<(?:\w+:)?IdentificatieRetour>([^<]+)</", text)
    out["IdentificatieRetour"] = m.group(1) if m else None
    out["RetourCodes"] = re.findall(r"<(?:\w+:)?RetourCode>([^<]*)</", text)
    out["header_only"] = not re.search(r"<(?:\w+:)?(Client|Declaratie|DeclaratieAntwoord)>", text)
    return out


def validate(payload):
    """(ok, output) of `knoop-xml validate` on the payload (levels 1 and 2, today's date)."""
    with tempfile.NamedTemporaryFile(suffix=".xml", delete=False) as f:
        f.write(payload)
        path = f.name
    try:
        r = subprocess.run([os.path.join(BUILD, "knoop-xml"), "validate", path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        return r.returncode == 0, r.stdout.decode("utf-8", "replace")
    finally:
        os.unlink(path)
