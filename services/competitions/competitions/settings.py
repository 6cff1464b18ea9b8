from pydantic import Field

from unionops.settings import CommonSettings


class Settings(CommonSettings):
    database_url: str = Field("postgresql://postgres@127.0.0.1:55432/competitions", alias="COMPETITIONS_DATABASE_URL")
    http_port: int = Field(8003, alias="COMPETITIONS_HTTP_PORT")
