"""One typed Settings object, read from OBSLAB_* environment variables and an optional TOML file."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from obslab.errors import SettingsError

#: Environment variable naming an optional TOML settings file (keys without the OBSLAB_ prefix).
CONFIG_FILE_VARIABLE = "OBSLAB_CONFIG_FILE"

#: GCN's notice topics `obslab alerts listen` follows unless told otherwise: the JSON streams of today's producers,
#: the classic VOEvent ones still alive, and SVOM's (VOEvent over Kafka only). gcn.heartbeat is always added.
DEFAULT_KAFKA_TOPICS = (
    "igwn.gwalert",
    "gcn.notices.swift.bat.guano",
    "gcn.notices.einstein_probe.wxt.alert",
    "gcn.notices.icecube.gold_bronze_track_alerts",
    "gcn.classic.voevent.SWIFT_BAT_GRB_POS_ACK",
    "gcn.classic.voevent.SWIFT_XRT_POSITION",
    "gcn.classic.voevent.FERMI_GBM_FLT_POS",
    "gcn.classic.voevent.FERMI_GBM_GND_POS",
    "gcn.classic.voevent.FERMI_GBM_FIN_POS",
    "gcn.notices.svom.voevent.grm",
    "gcn.notices.svom.voevent.eclairs",
    "gcn.notices.svom.voevent.mxt",
)
#: Kafka's rule for a topic name.
KAFKA_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")
#: librdkafka settings the listener owns: its offsets must be committed by it, after each notice's transaction.
KAFKA_RESERVED = {
    "group.id": "set OBSLAB_KAFKA_GROUP_ID instead",
    "enable.auto.commit": "the listener commits each offset itself, after the notice's transaction",
}


@dataclass(frozen=True)
class Site:
    """Where the observatory stands; the single source for every astronomical computation."""

    name: str
    latitude_deg: float
    longitude_deg: float
    height_m: float
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Settings(BaseSettings):
    """Everything a deployment may change, with the embedded single-user defaults.

    Precedence, highest first: keyword arguments, ``OBSLAB_*`` environment variables,
    the TOML file named by ``OBSLAB_CONFIG_FILE``, then the defaults below.
    """

    model_config = SettingsConfigDict(env_prefix="OBSLAB_", extra="forbid", validate_default=True)

    data_dir: Path = Field(
        default_factory=lambda: platformdirs.user_data_path("obslab"),
        description="Per-user data directory: the default SQLite database, products, reports.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means a SQLite file obslab.sqlite3 in the data directory.",
    )
    site_name: str = Field(default="Kitt Peak", min_length=1)
    site_latitude_deg: float = Field(default=31.9583, ge=-90.0, le=90.0)
    site_longitude_deg: float = Field(default=-111.5967, ge=-180.0, le=360.0)
    site_height_m: float = Field(default=2096.0, ge=-500.0, le=6000.0)
    site_timezone: str = Field(default="America/Phoenix")
    dask_scheduler: str = Field(
        default="",
        description=(
            "dask scheduler address (tcp://host:port) that 'obslab pipeline run' sends its tasks to; empty: "
            "local, on a thread pool (or a LocalCluster with --executor dask)."
        ),
    )
    products_dir: Path | None = Field(
        default=None,
        description="Where pipeline products are written; None: 'products' in the data directory. "
        "With a dask cluster elsewhere, a folder every worker shares.",
    )
    pipeline_max_retries: int = Field(
        default=3, ge=0, le=100, description="How often a failed pipeline stage is retried before it stays failed."
    )
    api_url: str = Field(
        default="http://127.0.0.1:8867",
        description="Base URL of the deployment's obslab API ('obslab api'), where 'obslab config get' fetches from.",
    )
    smtp_host: str = Field(default="", description="SMTP server; empty means notifications stay in the outbox.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    smtp_sender: str = "obslab@localhost"
    acting_user: str = Field(
        default="", description="User name to act as, overriding the login name (ignored inside JupyterHub)."
    )
    dashboard_kernel_idle_timeout: int = Field(
        default=900,
        ge=0,
        description="Seconds a Voila kernel no browser is connected to may stay idle before it is shut down; 0: never.",
    )
    dashboard_kernel_cull_interval: int = Field(
        default=60, ge=1, description="Seconds between Voila's looks for such idle kernels."
    )
    # A deployment's own rules live outside the installed package, so an upgrade keeps them.
    parameter_schema_file: Path | None = Field(default=None, description="Parameter schema TOML; None: packaged.")
    change_rules_file: Path | None = Field(default=None, description="Change rules TOML; None: the packaged rules.")
    alert_policies_file: Path | None = Field(default=None, description="Alert policies TOML; None: packaged.")
    telescope_fov_deg: float = Field(
        default=1.0,
        gt=0.0,
        le=20.0,
        description="The side of the telescope's square field of view in degrees: what sky maps are tiled with.",
    )
    alarm_rules_file: Path | None = Field(default=None, description="Alarm rules on metrics (TOML); None: packaged.")
    report_templates_dir: Path | None = Field(
        default=None,
        description="A folder of the deployment's own report templates (*.ipynb), beside the packaged ones.",
    )
    # GCN's Kafka brokers, for `obslab alerts listen` (credentials: gcn.nasa.gov/quickstart).
    kafka_topics: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_KAFKA_TOPICS),
        description="GCN topics to take notices from: comma-separated or a JSON list (gcn.heartbeat is added).",
    )
    kafka_client_id: SecretStr = SecretStr("")
    kafka_client_secret: SecretStr = SecretStr("")
    kafka_domain: Literal["gcn.nasa.gov", "test.gcn.nasa.gov", "dev.gcn.nasa.gov"] = "gcn.nasa.gov"
    kafka_group_id: str = Field(
        default="obslab",
        min_length=1,
        description="Kafka consumer group: where GCN remembers what this deployment has taken; keep it fixed.",
    )
    kafka_config: Annotated[dict[str, str | int | float | bool], NoDecode] = Field(
        default_factory=dict,
        description="Further librdkafka settings as a JSON object, e.g. a local broker's "
        '{"bootstrap.servers": "127.0.0.1:9092", "security.protocol": "plaintext"}.',
    )

    @field_validator("site_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r} (for example 'UTC' or 'America/Phoenix')") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value:
            return value
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        example = "sqlite:////var/lib/obslab/obslab.sqlite3 or postgresql+psycopg://obslab@db.example/obslab"
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"not a database URL; expected one like {example}") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(f"obslab runs on SQLite or PostgreSQL, not {url.get_backend_name()!r}; e.g. {example}")
        # A SQLite URI (file:..., as 'obslab db reader' gives for reading) names its file in its own syntax.
        if (
            url.get_backend_name() == "sqlite"
            and url.database
            and url.database != ":memory:"
            and not url.database.startswith("file:")
        ):
            folder = Path(url.database).expanduser().parent
            if not folder.is_dir():
                raise ValueError(f"the folder {folder} does not exist: create it, or name a file in an existing one")
        return value

    @field_validator("kafka_topics", mode="before")
    @classmethod
    def _topic_list(cls, value: object) -> object:
        # From the environment a list comes as text: a JSON list, or names separated by commas.
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else [name.strip() for name in text.split(",")]
        return value

    @field_validator("kafka_topics")
    @classmethod
    def _topic_names(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("no topics: name at least one, e.g. gcn.classic.voevent.SWIFT_BAT_GRB_POS_ACK")
        for name in value:
            if not KAFKA_TOPIC.fullmatch(name):
                raise ValueError(f"{name!r} is not a Kafka topic name (1-249 of the letters, digits, '.', '_', '-')")
        return list(dict.fromkeys(value))

    @field_validator("kafka_config", mode="before")
    @classmethod
    def _config_object(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return json.loads(value or "{}")
            except json.JSONDecodeError as error:
                raise ValueError(
                    f'not a JSON object ({error.msg}); e.g. {{"bootstrap.servers": "host:9092"}}'
                ) from None
        return value

    @field_validator("kafka_config")
    @classmethod
    def _kafka_config(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, why in KAFKA_RESERVED.items():
            if key in value:
                raise ValueError(f"{key!r} may not be set here: {why}")
        return value

    @field_validator("parameter_schema_file", "change_rules_file", "alert_policies_file", "alarm_rules_file")
    @classmethod
    def _existing_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.expanduser().is_file():
            raise ValueError(f"no such file: {value} (leave it unset for the packaged one)")
        return value.expanduser() if value is not None else None

    @field_validator("report_templates_dir")
    @classmethod
    def _existing_folder(cls, value: Path | None) -> Path | None:
        if value is not None and not value.expanduser().is_dir():
            raise ValueError(f"no such folder: {value} (leave it unset for the packaged templates only)")
        return value.expanduser() if value is not None else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_FILE_VARIABLE, "")
        if config_file:
            path = Path(config_file)
            if not path.is_file():
                raise SettingsError(f"{CONFIG_FILE_VARIABLE}={config_file!r}: no such file")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def site(self) -> Site:
        return Site(
            name=self.site_name,
            latitude_deg=self.site_latitude_deg,
            longitude_deg=self.site_longitude_deg,
            height_m=self.site_height_m,
            timezone=self.site_timezone,
        )

    @property
    def resolved_database_url(self) -> str:
        """The database URL to use, defaulting to a SQLite file in the data directory (made on first use).

        A configured SQLite file's folder must exist already (checked at load): a typo must not create folders.
        """
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.data_dir / 'obslab.sqlite3'}"

    @property
    def reports_dir(self) -> Path:
        """The report archive: ``reports`` in the data directory."""
        return self.data_dir / "reports"

    @property
    def resolved_products_dir(self) -> Path:
        """Where pipeline products go: the configured folder, else ``products`` in the data directory."""
        return self.products_dir if self.products_dir is not None else self.data_dir / "products"


def load_settings(**overrides: Any) -> Settings:
    """Read the settings now (never at import), turning validation failures into one clear error."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "settings"
            if error["type"] == "extra_forbidden":
                allowed = ", ".join(sorted(Settings.model_fields))
                problems.append(f"unknown setting {field!r} (known settings: {allowed})")
                continue
            variable = f"OBSLAB_{field.upper()}"
            problems.append(f"{variable}={error.get('input')!r}: {error['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
