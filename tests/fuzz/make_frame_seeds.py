# make_frame_seeds.py — writes the seed frames of tests/fuzz/fuzz_frame.c into tests/fuzz/seeds/frame/: one valid frame of
# each body a client sends (native payloads of every domain message), and a few malformed ones. Run from the root
# after `make` (it reads the generated protobuf modules in build/gen/python): /usr/bin/python3 tests/fuzz/make_frame_seeds.py
import sys, os
sys.path.insert(0, 'build/gen/python')
import knoop_pb2 as k, domain_pb2 as d
out = 'tests/fuzz/seeds/frame'
def w(name, frame):
    data = frame if isinstance(frame, bytes) else frame.SerializeToString()
    open(os.path.join(out, name), 'wb').write(data)
NATIVE = 'application/x-protobuf; knoop.domain.'
f = k.Frame(); f.hello.party = '99990001'; f.hello.client_name = 'fuzz seed'; f.hello.protocol_version = 1; w('hello', f)
f = k.Frame(); f.hello.party = '0917'; f.hello.client_name = 'Gemeente Heerlen – intake'; w('hello-gemeente', f)
def pub(name, **env):
    payload = env.pop('payload', b'')
    f = k.Frame(); f.publish.ref = 7
    e = f.publish.envelope
    for key, v in env.items(): setattr(e, key, v)
    e.payload = payload
    w(name, f)
pub('publish-json', sender='99990001', receiver='0917', kind=k.OUTCOME_REPORT, message_type='knoop.OutcomeReport',
    identificatie='ID000001', content_type='application/json', payload=b'{"n": 1}', created_at_us=1795428000000000)
pub('publish-bsn', sender='0917', receiver='99990001', kind=k.REFERRAL, message_type='knoop.Referral',
    identificatie='REF1', client_bsn='111222333', correlation_id='abc', content_type='application/octet-stream', payload=b'x')
ref = d.Referral(schema_version=1, referral_id='R1', product='begeleiding', need='support at home', urgency=d.SOON,
                 preferred_provider='99990001', start_date='2026-12-01', domains=['financien', 'huisvesting'], law='wmo')
pub('publish-referral', sender='0917', kind=k.REFERRAL, message_type='knoop.domain.Referral', identificatie='R1',
    client_bsn='111222333', content_type=NATIVE + 'Referral', payload=ref.SerializeToString())
pu = d.PlanUpdate(schema_version=1, plan_id='P1', action=d.PROVIDER_CHANGED, effective_date='2026-12-01',
                  product='begeleiding', new_provider='99990002', at_client_request=True, reason='client asked',
                  goals=[d.Goal(id='g1', description='own budget', domain='financien', target='3')])
pub('publish-planupdate', sender='99990001', kind=k.PLAN_UPDATE, message_type='knoop.domain.PlanUpdate',
    identificatie='P1', client_bsn='111222333', content_type=NATIVE + 'PlanUpdate', payload=pu.SerializeToString())
zrm = ['financien', 'werk-opleiding', 'tijdsbesteding', 'huisvesting', 'huiselijke-relaties', 'geestelijke-gezondheid',
       'lichamelijke-gezondheid', 'middelengebruik', 'basale-adl', 'instrumentele-adl', 'sociaal-netwerk',
       'maatschappelijke-participatie', 'justitie']
orep = d.OutcomeReport(schema_version=1, report_id='O1', contract='heerlen', indicator_set='zrm-13', level=d.CLIENT,
                       period_start='2026-07-01', period_end='2026-09-30',
                       values=[d.IndicatorValue(indicator=z, number=1 + i % 5) for i, z in enumerate(zrm)])
pub('publish-outcome', sender='99990001', receiver='0917', kind=k.OUTCOME_REPORT, message_type='knoop.domain.OutcomeReport',
    identificatie='O1', client_bsn='111222333', content_type=NATIVE + 'OutcomeReport', payload=orep.SerializeToString())
ret = d.Retour(schema_version=1, correlation_id='R1', answered_type='knoop.domain.Referral', status=d.REJECTED,
               codes=[d.RetourCode(code='0200', field='need', message='too vague')], reason='ask again')
pub('publish-retour', sender='99990001', receiver='0917', kind=k.RETOUR, message_type='knoop.domain.Retour',
    identificatie='RT1', content_type=NATIVE + 'Retour', payload=ret.SerializeToString())
pub('publish-bad-bsn', sender='99990001', kind=k.OTHER, message_type='X', client_bsn='123456789')
f = k.Frame(); f.subscribe.stream = 'inbox.99990001'; f.subscribe.subscriber = 'worker-1'; f.subscribe.start = k.SEQ
f.subscribe.start_seq = 5; f.subscribe.credit = 100; w('subscribe', f)
f = k.Frame(); f.subscribe.stream = 'signals.0917'; f.subscribe.start = k.TIME; f.subscribe.start_time_us = 1; w('subscribe-finance', f)
f = k.Frame(); f.unsubscribe.stream = 'inbox.99990001'; w('unsubscribe', f)
f = k.Frame(); f.credit.stream = 'inbox.99990001'; f.credit.n = 50; w('credit', f)
f = k.Frame(); f.ack.stream = 'inbox.99990001'; f.ack.seq = 12; w('ack', f)
f = k.Frame(); f.nack.stream = 'outcomes.0917'; f.nack.seq = 13; f.nack.delay_ms = 1000; f.nack.reason = 'busy'; w('nack', f)
f = k.Frame(); f.heartbeat.SetInParent(); w('heartbeat', f)
# Malformed: a Hello whose party is not UTF-8, a NUL inside a stream name, a truncated Publish, an unknown field.
w('hello-not-utf8', b'\x0a\x06\x12\x04\xff\xfe\x39\x39')
w('ack-nul', b'\x52\x07\x0a\x05in\x00ox')
w('publish-truncated', k.Frame(publish=k.Publish(ref=9, envelope=k.Envelope(sender='99990001'))).SerializeToString()[:-3])
w('unknown-field', b'\xa0\x06\x01' + k.Frame(ack=k.Ack(stream='alerts', seq=1)).SerializeToString())
