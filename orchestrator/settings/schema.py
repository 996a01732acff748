"""The configuration tree (pydantic). Every key here is documented in ``config/default.toml``.

Unknown keys are rejected (``extra="forbid"``); the loader (``orchestrator.settings.config``) turns a validation error
into one line naming the file and line that set the bad key.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator.core.contracts import ApprovalPolicy, Role, SandboxMode

__all__ = [
    "RoleConfig",
    "ModelsConfig",
    "ReviewConfig",
    "ValidateConfig",
    "CoderConfig",
    "SandboxConfig",
    "MemoryConfig",
    "SessionsConfig",
    "ApplyConfig",
    "StagingConfig",
    "LocalModelConfig",
    "BatchConfig",
    "ProjectConfig",
    "McpServerConfig",
    "Settings",
    "ProfileSettings",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoleConfig(_Section):
    model: str = ""  # empty: the top-level `model`
    api_base: str = ""
    temperature: float | None = None
    max_tokens: int | None = Field(default=None, gt=0)
    fallbacks: tuple[str, ...] = ()


class ModelsConfig(_Section):
    max_retries: int = Field(default=3, ge=0)
    retry_backoff_s: float = Field(default=1.0, ge=0)
    structured_retries: int = Field(default=3, ge=0)
    timeout_s: float = Field(default=600.0, gt=0)
    fallbacks: tuple[str, ...] = ()
    tool_mode: Literal["auto", "native", "structured"] = "auto"


class ReviewConfig(_Section):
    max_rounds: int = Field(default=3, ge=1)
    user_approves_diff: bool = True
    max_change_requests: int = Field(default=3, ge=0)  # "change it: ..." answers at one step's diff, then it fails
    diff_chunk_chars: int = Field(default=0, ge=0)  # orchestrate review: 0 = from the reviewer model's context
    max_requests: int = Field(default=8, ge=1)  # orchestrate review: chunks (model requests) per review


class ValidateConfig(_Section):
    commands: tuple[str, ...] = ()
    discover: bool = True
    max_rounds: int = Field(default=3, ge=1)
    timeout_s: float = Field(default=600.0, gt=0)
    idle_timeout_s: float = Field(default=60.0, ge=0)  # a check silent this long is taken as hung; 0: off
    output_tail_bytes: int = Field(default=4000, ge=100)


class PlannerConfig(_Section):
    merge_chars: int = Field(default=12000, ge=0)  # 0: never merge (agents.plan_fixups)
    merge_files: int = Field(default=4, ge=0)  # 0: never merge (a coder step names at least one file)
    skip_small: bool = True  # a task naming a few short files runs as one step without the planner model


class CoderConfig(_Section):
    max_turns: int = Field(default=30, ge=1)
    command_timeout_s: float = Field(default=300.0, gt=0)
    candidates: int = Field(default=1, ge=1)
    draft: bool = True  # structured-output coders start with a whole-file draft (agents.draft)
    strategy: Literal["auto", "actions", "draft"] = "auto"  # agents.strategy; auto: by native tool calls
    step_timeout_s: float = Field(default=240.0, ge=0)  # a coder step's wall time; 0: unbounded
    search_drafts: int = Field(default=8, ge=1)  # agents.search: model answers at most, the first draft included
    search_patience: int = Field(default=3, ge=0)  # agents.search: stop after N judged answers not bettering the best


class SandboxConfig(_Section):
    network: bool = False
    writable_roots: tuple[str, ...] = ()
    protect_git: bool = True
    allow_unconfined: bool = False
    unconfined_prefixes: tuple[tuple[str, ...], ...] = ()  # see config/default.toml and policies.placement
    env_allow: tuple[str, ...] = ()
    env_deny: tuple[str, ...] = ()
    backend: Literal["auto", "bwrap", "landlock"] = "auto"
    hide_paths: tuple[str, ...] = (
        "~/.ssh", "~/.gnupg", "~/.aws", "~/.azure", "~/.config/gcloud", "~/.kube", "~/.docker", "~/.config/gh",
        "~/.config/hub", "~/.netrc", "~/.git-credentials", "~/.config/git/credentials", "~/.pypirc", "~/.npmrc",
        "~/.yarnrc", "~/.yarnrc.yml", "~/.pgpass", "~/.my.cnf", "~/.cargo/credentials", "~/.cargo/credentials.toml",
        "~/.gem/credentials", "~/.vault-token", "~/.terraform.d/credentials.tfrc.json", "~/.password-store",
        "~/.local/share/keyrings", "~/.m2/settings.xml", "~/.gradle/gradle.properties", "~/.bash_history",
        "~/.zsh_history", "~/.history", "~/.sh_history", "~/.python_history", "~/.node_repl_history",
        "~/.psql_history", "~/.mysql_history", "~/.sqlite_history", "~/.lesshst", "~/.local/share/fish/fish_history",
    )
    max_processes: int = Field(default=2048, ge=0)  # 0: unbounded
    max_memory_mb: int = Field(default=8192, ge=0)
    tmpfs_size_mb: int = Field(default=1024, ge=0)


class MemoryConfig(_Section):
    max_bytes: int = Field(default=32768, ge=0)
    fallback_filenames: tuple[str, ...] = ()
    root_markers: tuple[str, ...] = (".git",)


class StagingConfig(_Section):
    # orchestrator.workspace.staging_include
    include: tuple[str, ...] = ("node_modules", ".venv", "venv", "env", "vendor")

    @field_validator("include")
    @classmethod
    def _relative(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            if not pattern.strip() or pattern.startswith(("/", "~")) or ".." in pattern.split("/"):
                raise ValueError(f"{pattern!r} must be a path pattern relative to the project root, without '..'")
        return patterns


class ApplyConfig(_Section):
    # orchestrator.engine.delivery
    mode: Literal["worktree", "commit", "branch"] = "worktree"
    branch: str = ""  # "branch" mode: the new branch's name (empty: orchestrate/<session id>)


class SessionsConfig(_Section):
    keep_days: int = Field(default=30, ge=0)


class LocalModelConfig(_Section):
    n_ctx: int = Field(default=8192, ge=512)
    threads: int = Field(default=0, ge=0)  # 0: all cores


class BatchConfig(_Section):
    backend: Literal["local", "ray"] = "local"
    max_concurrency: int = Field(default=2, ge=1)
    ray_address: str = ""
    ray_num_cpus: float = Field(default=1.0, gt=0)
    work_dir: str = ""  # empty: OUT/work
    task_timeout_s: float = Field(default=0.0, ge=0)  # 0: no limit
    check_timeout_s: float = Field(default=1800.0, gt=0)
    forward_env: tuple[str, ...] = ()  # fnmatch patterns of variables copied into every task's environment


class ProjectConfig(_Section):
    trust_level: Literal["trusted", "untrusted"]


class McpServerConfig(_Section):
    command: str
    args: tuple[str, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)
    env_vars: tuple[str, ...] = ()  # names passed through from orchestrate's own environment
    enabled: bool = True
    required: bool = False  # a server that fails to start stops the run (else: a warning)
    startup_timeout_s: float = Field(default=30.0, gt=0)
    tool_timeout_s: float = Field(default=120.0, gt=0)
    trusted: bool = False  # its tool calls run without asking (else: asked, or refused when nobody can be asked)


class _Overridable(_Section):
    """Keys a profile may set (everything but `profiles` and `projects`)."""

    model: str = ""
    api_base: str = ""
    approval_policy: ApprovalPolicy = "on-request"
    sandbox_mode: SandboxMode = "workspace-write"
    max_parallel: int = Field(default=4, ge=1)
    budget_usd: float = Field(default=0.0, ge=0)
    roles: dict[Role, RoleConfig] = Field(default_factory=dict)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    validate_: ValidateConfig = Field(default_factory=ValidateConfig, alias="validate")
    planner: PlannerConfig = Field(default_factory=PlannerConfig)
    coder: CoderConfig = Field(default_factory=CoderConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
    sessions: SessionsConfig = Field(default_factory=SessionsConfig)
    apply: ApplyConfig = Field(default_factory=ApplyConfig)
    staging: StagingConfig = Field(default_factory=StagingConfig)
    local: LocalModelConfig = Field(default_factory=LocalModelConfig)
    batch: BatchConfig = Field(default_factory=BatchConfig)
    mcp_servers: dict[str, McpServerConfig] = Field(default_factory=dict)


class ProfileSettings(_Overridable):
    """A ``[profiles.NAME]`` table: validated on its own so a typo in any profile is caught, used or not."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Settings(_Overridable):
    """The effective configuration of one run, after every layer was applied."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    profile: str = ""
    profiles: dict[str, ProfileSettings] = Field(default_factory=dict)
    projects: dict[str, ProjectConfig] = Field(default_factory=dict)

    def role(self, role: Role) -> RoleConfig:
        """The role's settings with the top-level ``model``/``api_base`` filled in where the role leaves them empty.

        The top-level ``api_base`` goes with the top-level ``model``: a role that names its own model without its own
        ``api_base`` talks to that model's provider, not to the URL of the model it does not use.
        """
        own = self.roles.get(role, RoleConfig())
        inherited_base = self.api_base if not own.model else ""
        return own.model_copy(
            update={
                "model": own.model or self.model,
                "api_base": own.api_base or inherited_base,
                "fallbacks": own.fallbacks or self.models.fallbacks,
            }
        )
