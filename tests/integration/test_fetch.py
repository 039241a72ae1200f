"""`fetch` against a real HTTP server on loopback serving ../shared/data."""

import functools
import hashlib
import http.server
import threading
import zipfile

import pytest

from cnnkit.data import DataFormatError, fetch, load_csv
from tests.conftest import REAL_CSV, SHARED_DATA, requires_shared_data

pytestmark = requires_shared_data(REAL_CSV.name)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    extra = tmp_path_factory.mktemp("served")
    with zipfile.ZipFile(extra / "table.zip", "w") as z:
        z.write(REAL_CSV, "Epileptic Seizure Recognition.csv")
    (extra / "broken.csv").write_text(",X1,y\nX1.Z001,1,2\n")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def translate_path(self, path):
            name = path.lstrip("/")
            return str(extra / name if (extra / name).exists() else SHARED_DATA / name)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(SHARED_DATA)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def real_md5():
    return hashlib.md5(REAL_CSV.read_bytes()).hexdigest()


def test_fetch_verifies_checksum_and_writes_the_table(server, real_md5, tmp_path):
    path, md5 = fetch(tmp_path / "uci.csv", url=f"{server}/{REAL_CSV.name}", md5=real_md5)
    assert md5 == real_md5 and path.read_bytes() == REAL_CSV.read_bytes()
    assert len(load_csv(path)) == 11_500


def test_fetch_unpacks_a_zip_answer(server, real_md5, tmp_path):
    path, md5 = fetch(tmp_path / "uci.csv", url=f"{server}/table.zip", md5=real_md5)
    assert md5 == real_md5


def test_wrong_checksum_keeps_nothing_and_keeps_the_old_file(server, tmp_path):
    target = tmp_path / "uci.csv"
    target.write_text("an earlier download")
    with pytest.raises(DataFormatError, match=r"checksum mismatch: expected md5 0+, got [0-9a-f]{32}"):
        fetch(target, url=f"{server}/{REAL_CSV.name}", md5="0" * 32)
    assert target.read_text() == "an earlier download"
    assert list(tmp_path.iterdir()) == [target]


def test_content_that_is_not_the_table_is_refused(server, tmp_path):
    with pytest.raises(DataFormatError, match=r"expected 179 columns"):
        fetch(tmp_path / "uci.csv", url=f"{server}/broken.csv")
    assert list(tmp_path.iterdir()) == []


def test_http_error_names_the_url(server, tmp_path):
    with pytest.raises(OSError, match=r"could not download http://127.0.0.1:\d+/missing.csv: HTTP 404"):
        fetch(tmp_path / "uci.csv", url=f"{server}/missing.csv")
