import io
import json
import logging

from minyi.core.privacy import mask_text


def test_mobile_and_id_numbers_are_masked_in_free_text():
    text = "张三 13800001234 身份证 36072119900101123X 座机 0797-8123456"
    masked = mask_text(text)
    assert "13800001234" not in masked and "138****1234" in masked
    assert "36072119900101123X" not in masked and "360721********123X" in masked
    assert "8123456" not in masked


def test_longer_digit_runs_are_not_mistaken_for_phones():
    sequence_number = "1100000000017454423009"
    assert mask_text(sequence_number) == sequence_number
    assert mask_text("1795660815389") == "1795660815389"  # a timestamp in ms


def test_logger_masks_every_field_of_a_log_line(monkeypatch):
    from minyi.core.observability import logger

    stream = io.StringIO()
    handler = logger.registered_handler
    monkeypatch.setattr(handler, "stream", stream)
    logger.info("citizen 13912345678 called", extra={"citizen_id": "360721199001011234"})
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert "13912345678" not in stream.getvalue() and "360721199001011234" not in stream.getvalue()
    assert line["message"] == "citizen 139****5678 called"
    assert line["citizen_id"] == "360721********1234"
    assert isinstance(logging.getLogger(logger.name), logging.Logger)
