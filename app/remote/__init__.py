"""Remote management over MQTT: every gateway a Kura-compatible device on a broker."""
