"""A stand-in channel that takes replies, for the composer's tests (the real Weibo-style API
collector is tested against its own local fake in tests/collectors)."""

SENT: list[tuple[str, str]] = []
FAIL: list[str] = []  # put a message here to make the next publish fail


class FakeChannel:
    kind = "fakeweibo"
    can_publish = True

    def __init__(self, config: dict, state: dict):
        self.config = config

    def collect(self, since):
        return iter(())

    def publish_reply(self, post_external_id: str, text: str) -> str | None:
        if FAIL:
            raise ConnectionError(FAIL.pop())
        SENT.append((post_external_id, text))
        return f"https://weibo.example/comment/{post_external_id}/{len(SENT)}"
