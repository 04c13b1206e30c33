"""The task ran out of memory or out of time.

Recognises Cloud Run's own lines (`Memory limit of N MiB exceeded with M MiB used`, `Container
terminated on signal 9`, `Terminating task because it has reached the maximum timeout of N
seconds`), the runtimes' out-of-memory messages (Node's `JavaScript heap out of memory` / `Reached
heap limit`, Python's `MemoryError`, a shell's `Killed`, the JVM's `OutOfMemoryError` and `There is
insufficient memory for the Java Runtime Environment`, the BEAM's `eheap_alloc: Cannot allocate`,
Ruby's `NoMemoryError`, `std::bad_alloc`, ENOMEM, Go's `signal: killed`) and the execution's own
status (outcome TIMED_OUT, audit status code 4, "The configured timeout was reached", signal 9 /
exit code 137 on a task). Facts put numbers side by side: the memory limit configured against the
usage reported, the task timeout against how long it ran, and whether every retry was used up.
"""

from __future__ import annotations

import re
from datetime import timedelta

from analyzers import commands
from analyzers.base import (
    Analyzer,
    Cause,
    Check,
    Fact,
    Finding,
    Signature,
    build_finding,
    match_signatures,
    match_status,
    sig,
)
from jobtriage.evidence import Evidence, ExecutionRef, Outcome
from jobtriage.text import Text


def _checks(ref: ExecutionRef) -> tuple[Check, ...]:
    return (
        Check(
            Text(
                en="Read Cloud Run's own lines for this execution (memory, signal, timeout)",
                ko="이 실행의 Cloud Run 시스템 로그 확인(메모리·시그널·타임아웃)",
            ),
            commands.read_system_logs(ref),
        ),
        Check(
            Text(
                en="Exit code, signal and retries of each task",
                ko="태스크별 종료 코드·시그널·재시도 횟수 확인",
            ),
            commands.list_tasks(ref),
        ),
        Check(
            Text(
                en="The job's memory limit, task timeout and max retries",
                ko="Job의 메모리 한도·태스크 타임아웃·최대 재시도 확인",
            ),
            commands.job_limits(ref),
        ),
    )


CAUSE = Cause(
    id="resource_limit",
    # Not in the seed. A migration job rarely needs much memory or time; when it does, the platform
    # says so plainly, so a small prior suffices.
    prior=0.05,
    name=Text(en="Out of memory or task timeout", ko="메모리 부족 또는 태스크 타임아웃"),
    checks=_checks,
    workarounds=(
        Text(
            en="Raise the memory limit (gcloud run jobs update --memory=1Gi or 2Gi); for Node also "
            "set NODE_OPTIONS=--max-old-space-size to about 75% of it",
            ko="메모리 한도 상향(gcloud run jobs update --memory=1Gi 또는 2Gi), Node라면 "
            "NODE_OPTIONS=--max-old-space-size를 한도의 약 75%로 설정",
        ),
        Text(
            en="Raise the task timeout (gcloud run jobs update --task-timeout=30m) or split the "
            "work into smaller batches",
            ko="태스크 타임아웃 상향(gcloud run jobs update --task-timeout=30m) 또는 작업을 "
            "작은 단위로 분할",
        ),
        Text(
            en="Set --max-retries=0 for migrations: a retry after a timeout rarely helps and can "
            "run the same migration twice",
            ko="마이그레이션은 --max-retries=0 권장: 타임아웃 뒤 재시도는 효과가 적고 같은 "
            "마이그레이션을 두 번 실행할 수 있음",
        ),
    ),
    refute_hint=Text(
        en="No memory-limit, signal 9 or timeout line from Cloud Run",
        ko="Cloud Run의 메모리 한도·signal 9·타임아웃 로그 없음",
    ),
)

_OOM = Text(
    en="The container exceeded its memory limit and was killed",
    ko="컨테이너가 메모리 한도를 넘어 강제 종료됨",
)
_HEAP = Text(
    en="Node ran out of JavaScript heap memory",
    ko="Node의 JavaScript 힙 메모리 부족",
)
_PY_OOM = Text(en="Python ran out of memory (MemoryError)", ko="Python 메모리 부족(MemoryError)")
_KILLED = Text(
    en="The container was killed by signal 9 (SIGKILL), most often for memory",
    ko="컨테이너가 signal 9(SIGKILL)로 종료됨 — 대부분 메모리 초과",
)
_TIMEOUT = Text(
    en="The task hit its configured timeout and was stopped",
    ko="태스크가 설정된 타임아웃에 도달해 중단됨",
)

_MEMORY_LINE = re.compile(r"Memory limit of (\d+)\s*M(?:iB)? exceeded with (\d+)\s*M(?:iB)? used")
_TIMEOUT_LINE = re.compile(r"maximum timeout of (\d+) seconds")

_DISK = Text(
    en="The disk is full (in Cloud Run, files written count against the memory limit)",
    ko="디스크가 가득 참(Cloud Run에서는 기록한 파일이 메모리 한도에 포함됨)",
)
_RUNTIME_HEAP = Text(
    en="The runtime ran out of heap memory (heap limit or container memory too small)",
    ko="런타임 힙 메모리 부족(힙 한도 또는 컨테이너 메모리가 작음)",
)
SIGNATURES: tuple[Signature, ...] = (
    Signature("Memory limit of", "MEMORY_LIMIT_EXCEEDED", 0.96, _OOM, _MEMORY_LINE),
    Signature("JavaScript heap out of memory", "JS_HEAP_OOM", 0.93, _HEAP),
    Signature("Reached heap limit", "JS_HEAP_OOM", 0.93, _HEAP),
    Signature("MemoryError", "PY_MEMORY_ERROR", 0.9, _PY_OOM, re.compile(r"^\s*MemoryError\b")),
    Signature(
        "reached the maximum timeout of",
        "TASK_TIMEOUT",
        0.95,
        _TIMEOUT,
        re.compile(r"Terminating task because it has reached the maximum timeout"),
    ),
    Signature("The configured timeout was reached", "TASK_TIMEOUT", 0.95, _TIMEOUT),
    # a Kubernetes Job's activeDeadlineSeconds (the same limit on GKE)
    Signature("was active longer than specified deadline", "TASK_TIMEOUT", 0.86, _TIMEOUT),
    Signature("terminated on signal 9", "SIGKILL", 0.65, _KILLED),
    Signature("signal SIGKILL", "SIGKILL", 0.6, _KILLED),
    Signature("Container called exit(137)", "SIGKILL", 0.55, _KILLED),
    Signature(
        "Killed",
        "SIGKILL",
        0.55,
        _KILLED,
        re.compile(
            r"^\s*Killed\s*$|\bsh: (?:line )?\d+: +(?:\d+ +)?Killed\b|\bline \d+: +\d+ Killed\b"
        ),
    ),
    # Other stacks (signatures reviewed against the failure corpus's development part)
    sig(
        "Allowed memory size of",
        "PHP_MEMORY_LIMIT",
        0.93,
        _OOM,
        r"Allowed memory size of \d+ bytes exhausted",
    ),
    sig("OutOfMemoryError", "JVM_OOM", 0.93, _RUNTIME_HEAP),
    sig(
        "Unable to allocate",
        "PY_MEMORY_ERROR",
        0.88,
        _PY_OOM,
        r"Unable to allocate .* for an array",
    ),
    sig("memory limit was reached", "MEMORY_LIMIT_EXCEEDED", 0.95, _OOM),
    sig(
        "Out of memory",
        "OOM_KILLED",
        0.88,
        _OOM,
        r"Out of memory: Kill(ed)? process|out of memory|OOMKilled|oom-kill",
    ),
    sig("OOMKilled", "OOM_KILLED", 0.9, _OOM),
    sig("exit code 137", "SIGKILL", 0.62, _KILLED),
    sig("Exit status 137", "SIGKILL", 0.62, _KILLED),
    sig("low on memory", "OOM_KILLED", 0.86, _OOM),
    sig("memory allocation of", "OOM_KILLED", 0.88, _OOM, r"memory allocation of \d+ bytes failed"),
    sig("Resources exceeded during query execution", "QUERY_RESOURCES", 0.9, _OOM),
    sig("No space left on device", "DISK_FULL", 0.88, _DISK),
    sig("Killed", "SIGKILL", 0.55, _KILLED, r"^\s*Killed\s*$"),
    sig(
        "Memory limit of",
        "MEMORY_LIMIT_EXCEEDED",
        0.95,
        _OOM,
        r"Memory limit of \S+ \S*B? ?exceeded",
    ),
    sig("A fatal error has been detected by the Java Runtime", "JVM_FATAL", 0.6, _OOM),
    sig("OutOfMemoryException", "DOTNET_OOM", 0.92, _RUNTIME_HEAP),
    sig("errno 137", "SIGKILL", 0.62, _KILLED),
    sig("oom_score_adj", "OOM_KILLED", 0.85, _OOM),
    sig("invoked oom-killer", "OOM_KILLED", 0.9, _OOM),
    # Runtimes that die when an allocation fails: the BEAM (crash dump wording), Ruby, the JVM's
    # native allocations (hs_err), C++, and any program told ENOMEM by the kernel
    sig("Cannot allocate", "OOM_KILLED", 0.92, _OOM, r"eheap_alloc: Cannot allocate \d+ bytes"),
    sig(
        "failed to allocate memory",
        "OOM_KILLED",
        0.9,
        _OOM,
        r"NoMemoryError|failed to allocate memory \(",
    ),
    sig(
        "There is insufficient memory for the Java Runtime Environment",
        "JVM_NATIVE_OOM",
        0.92,
        _OOM,
    ),
    sig("std::bad_alloc", "OOM_KILLED", 0.85, _OOM),
    sig("Cannot allocate memory", "OOM_KILLED", 0.82, _OOM),
    # Go's os/exec reporting a child killed by SIGKILL (usually the OOM killer)
    sig("signal: killed", "SIGKILL", 0.6, _KILLED),
    # A child process killed under the parent (the OOM killer picks the biggest): Python's
    # concurrent.futures, Celery's prefork pool, multiprocessing's negative exit code
    sig(
        "terminated abruptly while the future was running",
        "SIGKILL",
        0.66,
        _KILLED,
    ),
    sig("Worker exited prematurely: signal 9", "SIGKILL", 0.7, _KILLED),
)

# Cloud Run memory limits a job can be raised to, in MiB.
_STEPS_MIB = (512, 1024, 2048, 4096, 8192, 16384, 32768)


def _mib(limit: str | None) -> int | None:
    """'512Mi' → 512, '1Gi' → 1024, '2G' → 1907; None when unknown or unparsable."""
    if not limit:
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|K|M|G|T)?\s*", limit)
    if m is None:
        return None
    value = float(m.group(1))
    unit = m.group(2) or ""
    factor = {
        "": 1 / (1024 * 1024),
        "Ki": 1 / 1024,
        "Mi": 1,
        "Gi": 1024,
        "Ti": 1024 * 1024,
        "K": 1000 / (1024 * 1024),
        "M": 1000 * 1000 / (1024 * 1024),
        "G": 1000**3 / (1024 * 1024),
        "T": 1000**4 / (1024 * 1024),
    }[unit]
    return round(value * factor)


def _suggest(used_mib: int) -> str:
    want = used_mib * 1.25
    for step in _STEPS_MIB:
        if step >= want:
            return f"{step // 1024}Gi" if step >= 1024 else f"{step}Mi"
    return "32Gi"


def _memory_facts(evidence: Evidence) -> list[Fact]:
    facts: list[Fact] = []
    configured = evidence.config.main.memory_limit if evidence.config.main else None
    for line in evidence.grep("Memory limit of"):
        m = _MEMORY_LINE.search(line.text)
        if m is None:
            continue
        limit, used = int(m.group(1)), int(m.group(2))
        facts.append(
            Fact.status(
                Text(
                    en="Memory: {used} MiB used against a {limit} MiB limit (job config: {conf}); "
                    "try --memory={next}",
                    ko="메모리: 한도 {limit} MiB에 {used} MiB 사용(Job 설정: {conf}); "
                    "--memory={next} 권장",
                ).format(used=used, limit=limit, conf=configured or "-", next=_suggest(used))
            )
        )
        break
    if not facts and configured and evidence.grep("heap out of memory", "Reached heap limit"):
        mib = _mib(configured)
        if mib:
            facts.append(
                Fact.config(
                    Text(
                        en="Container memory limit is {conf}; Node's heap may be capped lower — "
                        "set NODE_OPTIONS=--max-old-space-size={heap}",
                        ko="컨테이너 메모리 한도는 {conf}; Node 힙 한도가 더 낮을 수 있음 — "
                        "NODE_OPTIONS=--max-old-space-size={heap} 설정",
                    ).format(conf=configured, heap=int(mib * 0.75))
                )
            )
    return facts


def _duration(evidence: Evidence) -> timedelta | None:
    spans = [
        t.completion_time - t.start_time
        for t in evidence.tasks
        if t.start_time is not None and t.completion_time is not None
    ]
    if spans:
        return max(spans)
    return evidence.execution.duration if evidence.execution else None


def _fmt(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    minutes, sec = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{sec:02d}s" if hours else f"{minutes}m{sec:02d}s"


def _timeout_facts(evidence: Evidence) -> list[Fact]:
    facts: list[Fact] = []
    configured = evidence.config.timeout
    ran = _duration(evidence)
    if configured is not None or ran is not None:
        facts.append(
            Fact.config(
                Text(
                    en="Task timeout {conf}; the task ran {ran}",
                    ko="태스크 타임아웃 {conf}, 실제 실행 시간 {ran}",
                ).format(
                    conf=_fmt(configured) if configured else "-",
                    ran=_fmt(ran) if ran else "-",
                )
            )
        )
    return facts


def _timed_out_status(evidence: Evidence) -> Fact | None:
    event = evidence.event
    if event is not None and (event.outcome is Outcome.TIMED_OUT or event.status_code == 4):
        return Fact.status(
            Text(
                en="Cloud Run reports the execution as timed out (audit status code {code})",
                ko="Cloud Run이 실행을 타임아웃으로 기록함(감사 로그 상태 코드 {code})",
            ).format(code=event.status_code)
        )
    if evidence.timed_out:
        return Fact.status(
            Text(
                en="The execution's status says the configured timeout was reached",
                ko="실행 상태 메시지: 설정된 타임아웃에 도달함",
            )
        )
    return None


def _killed_tasks(evidence: Evidence) -> list[int]:
    return [t.index for t in evidence.tasks if t.term_signal == 9 or t.exit_code == 137]


def _retries_fact(evidence: Evidence) -> Fact | None:
    max_retries = evidence.config.max_retries
    if max_retries is None or max_retries == 0:
        return None
    exhausted = [t for t in evidence.tasks if t.failed and t.retried >= max_retries]
    if not exhausted:
        return None
    return Fact.status(
        Text(
            en="Every retry was used ({n} of {n}) and each attempt ended the same way: raising "
            "retries will not help",
            ko="재시도 {n}회를 모두 소진했고 매번 같은 방식으로 실패함: 재시도 증가는 효과 없음",
        ).format(n=max_retries)
    )


def analyze(evidence: Evidence) -> Finding | None:
    """Out of memory (limit exceeded, heap, signal 9) or the task timeout was reached."""
    matches = match_signatures(evidence, SIGNATURES)
    status = match_status(evidence, SIGNATURES)
    timed_out = _timed_out_status(evidence)
    killed = _killed_tasks(evidence)
    if not matches and not status and timed_out is None and not killed:
        return None
    facts: list[Fact] = []
    signatures = {m.signature.signature for m in matches} | {h.signature.signature for h in status}
    if (
        signatures & {"MEMORY_LIMIT_EXCEEDED", "JS_HEAP_OOM", "PY_MEMORY_ERROR", "SIGKILL"}
        or killed
    ):
        facts.extend(_memory_facts(evidence))
    if killed:
        facts.append(
            Fact.status(
                Text(
                    en="Task(s) {tasks} were killed (signal 9 / exit code 137)",
                    ko="태스크 {tasks}이(가) 강제 종료됨(signal 9 / 종료 코드 137)",
                ).format(tasks=", ".join(str(i) for i in killed))
            )
        )
    if timed_out is not None or "TASK_TIMEOUT" in signatures:
        if timed_out is not None:
            facts.append(timed_out)
        facts.extend(_timeout_facts(evidence))
    retries = _retries_fact(evidence)
    if retries is not None:
        facts.append(retries)
    checks = CAUSE.checks(evidence.ref)
    finding = build_finding(CAUSE, matches=matches, status=status, extra_facts=facts, checks=checks)
    if finding is not None:
        if timed_out is not None and finding.signature == "SIGKILL":
            # a kill at the deadline is the timeout, not memory
            return Finding(
                cause=CAUSE.id,
                strength=0.93,
                title=_TIMEOUT,
                facts=finding.facts,
                signature="TASK_TIMEOUT",
                checks=checks,
            )
        return finding
    if timed_out is not None:
        return Finding(
            cause=CAUSE.id,
            strength=0.93,
            title=_TIMEOUT,
            facts=tuple(facts),
            signature="TASK_TIMEOUT",
            checks=checks,
        )
    return Finding(
        cause=CAUSE.id,
        strength=0.6,
        title=_KILLED,
        facts=tuple(facts),
        signature="SIGKILL",
        checks=checks,
    )


ANALYZER = Analyzer(cause=CAUSE, analyze=analyze, doc=__doc__ or "")
