"""Downloads of the case list as shown (CSV, XLSX), each audited."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fraudmatch.review.casework import ReviewError
from fraudmatch.review.exports import case_list, file_stem, to_csv_bytes, to_xlsx_bytes
from fraudmatch.review.web.context import web

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export(request: Request, kind: str) -> Response:
    ctx = web(request)
    filters = ctx.filters_of(request)
    if not filters.run:
        return ctx.error(request, 404, "Not found", "no run to export")
    try:
        frame = case_list(ctx.review, filters)
    except ReviewError as exc:
        return ctx.error(request, 404, "Not found", str(exc))
    shown = {k: v for k, v in filters.__dict__.items() if v}
    ctx.review.log(request.state.session["u"], "export",
                   {**shown, "format": kind, "rows": frame.height})  # fmt: skip
    name = f"{file_stem(filters)}.{kind}"
    if kind == "csv":
        data, media = to_csv_bytes(frame), "text/csv; charset=utf-8"
    else:
        data, media = to_xlsx_bytes(frame, sheet=filters.rule or filters.partner or "cases"), XLSX
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/export.csv")
def export_csv(request: Request) -> Response:
    return export(request, "csv")


@router.get("/export.xlsx")
def export_xlsx(request: Request) -> Response:
    return export(request, "xlsx")
