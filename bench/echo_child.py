"""A bare echo device for bench_remote.py: answers every request on its subtree with the same
payload on the reply topic, doing nothing else (the broker's own round trip is the limit)."""

from __future__ import annotations

import sys
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from app.remote.kurapayload_pb2 import KuraPayload


def main() -> None:
    host, port, user, password, account, cid = sys.argv[1:7]
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid, protocol=mqtt.MQTTv311)
    client.username_pw_set(user, password)

    def on_connect(c: mqtt.Client, u: object, f: object, rc: object, p: object) -> None:
        c.subscribe(f"$EDC/{account}/{cid}/#", qos=1)
        print("ready", flush=True)

    def on_message(c: mqtt.Client, u: object, msg: mqtt.MQTTMessage) -> None:
        parts = msg.topic.split("/")
        if len(parts) < 5 or parts[4] == "REPLY":
            return
        payload = KuraPayload()
        payload.ParseFromString(msg.payload)
        ids = {m.name: m.string_value for m in payload.metric}
        c.publish(f"$EDC/{account}/{ids['requester.client.id']}/{parts[3]}/REPLY/"
                  f"{ids['request.id']}", msg.payload, qos=0)

    client.on_connect = on_connect
    client.on_message = on_message
    client.connect(host, int(port), keepalive=30)
    client.loop_forever()


if __name__ == "__main__":
    main()
