"""The page's pieces: escaping, tables with header cells, figures with their text alternative,
sections, and the page itself with its inline style and script. Nothing here is loaded from
elsewhere: the style and the one small script are written into the page, the figures are data
URIs, and the page reads the same with scripts off (the script only adds the checks' filter).
"""
from __future__ import annotations

import base64
import html
import re
import struct

STATUS_CLASS = {"PASS": "pass", "FAIL": "fail", "READING": "reading", "SKIP": "skip"}

CSS = """
:root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--band:#f6f8fa;--pass:#1a7f37;--fail:#b42318;
--reading:#9a6700;--skip:#57606a}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
header.top{padding:1.2rem 2rem .6rem;border-bottom:1px solid var(--line);background:var(--band)}
header.top p{margin:.2rem 0;color:var(--muted)}
nav.toc{padding:.5rem 2rem;border-bottom:1px solid var(--line);position:sticky;top:0;background:var(--bg);z-index:2}
nav.toc ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.3rem 1.2rem}
nav.toc a{color:#0550ae;text-decoration:none}
nav.toc a:hover,nav.toc a:focus{text-decoration:underline}
main{padding:0 2rem 3rem;max-width:1400px}
section{padding-top:.6rem;border-bottom:1px solid var(--line);padding-bottom:1rem}
h1{font-size:1.6rem;margin:.2rem 0}
h2{font-size:1.35rem;margin:1.2rem 0 .5rem}
h3{font-size:1.1rem;margin:1rem 0 .4rem}
h4{font-size:1rem;margin:.8rem 0 .3rem}
p.note,.muted{color:var(--muted)}
code,pre{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:.88em}
pre{background:var(--band);padding:.6rem .8rem;overflow-x:auto;white-space:pre-wrap;border:1px solid var(--line)}
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.88rem}
caption{text-align:left;font-weight:600;padding:.2rem 0;color:var(--fg)}
th,td{border:1px solid var(--line);padding:.25rem .5rem;vertical-align:top;text-align:left}
thead th{background:var(--band);position:sticky;top:2.4rem}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.status{font-weight:700;white-space:nowrap}
.status.pass{color:var(--pass)}.status.fail{color:var(--fail)}.status.reading{color:var(--reading)}.status.skip{color:var(--skip)}
.status.pass::before{content:"\\2713\\00a0"}.status.fail::before{content:"\\2717\\00a0"}
.status.reading::before{content:"\\25B3\\00a0"}.status.skip::before{content:"\\2013\\00a0"}
tr.fail td{background:#fff1f0}
figure{margin:.6rem 0 1.4rem}
figure img{max-width:100%;height:auto;border:1px solid var(--line);background:#fff}
figcaption{color:var(--muted);font-size:.9rem;max-width:70rem}
.scroll{overflow-x:auto;max-width:100%}
.filter[hidden]{display:none}
.filter{display:flex;gap:1rem;align-items:end;flex-wrap:wrap;margin:.4rem 0}
.filter label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted)}
.filter input,.filter select{font:inherit;padding:.2rem .4rem}
.cards{display:flex;flex-wrap:wrap;gap:.6rem 1.6rem;margin:.4rem 0}
.cards div{min-width:9rem}
.cards dt{color:var(--muted);font-size:.85rem}.cards dd{margin:0;font-weight:600}
details summary{cursor:pointer;color:#0550ae}
"""

# The only script: the checks' filter (status and text). Without it every check is listed.
SCRIPT = """
(function(){
  var box=document.getElementById('check-filter'); if(!box){return;}
  box.hidden=false;
  var table=document.getElementById('checks'), rows=table.tBodies[0].rows;
  var status=document.getElementById('check-status'), text=document.getElementById('check-text');
  var count=document.getElementById('check-count');
  function apply(){
    var s=status.value, t=text.value.toLowerCase(), shown=0;
    for(var i=0;i<rows.length;i++){
      var r=rows[i], ok=(!s||r.getAttribute('data-status')===s)&&(!t||r.textContent.toLowerCase().indexOf(t)>=0);
      r.hidden=!ok; if(ok){shown++;}
    }
    count.textContent=shown+' of '+rows.length+' checks shown';
  }
  status.addEventListener('change',apply); text.addEventListener('input',apply); apply();
})();
"""


def esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def status_cell(status: str) -> str:
    """A check's status as text (PASS, FAIL, ...) with a mark and a colour: never colour alone."""
    return f'<td class="status {STATUS_CLASS.get(status, "skip")}">{esc(status)}</td>'


def table(headers: list[str], rows: list[list[str]], caption: str | None = None, *, numeric: set[int] = frozenset(),
          table_id: str | None = None, row_attrs: list[str] | None = None, row_header: bool = False) -> str:
    """A table: `headers` as column header cells, `rows` as lists of cell contents (already
    escaped HTML) or of ready cells ('<td ...>' or '<th ...>'); the first cell of each row is a
    row header with `row_header`. Columns in `numeric` are right-aligned."""
    out = [f'<div class="scroll"><table{f" id={chr(34)}{table_id}{chr(34)}" if table_id else ""}>']
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    out.append("<thead><tr>" + "".join(
        f'<th scope="col"{" class=num" if i in numeric else ""}>{esc(h)}</th>' for i, h in enumerate(headers))
        + "</tr></thead><tbody>")
    for k, row in enumerate(rows):
        attrs = f" {row_attrs[k]}" if row_attrs else ""
        cells = []
        for i, cell in enumerate(row):
            if cell.startswith(("<td", "<th")):
                cells.append(cell)
            elif i == 0 and row_header:
                cells.append(f'<th scope="row">{cell}</th>')
            else:
                cells.append(f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>")
        out.append(f"<tr{attrs}>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _size(data: bytes, mime: str) -> tuple[int, int] | None:
    """The image's size in CSS pixels (an SVG's pixels, or its pt at 96 dpi; a PNG's pixels), if it says."""
    if mime == "image/png" and data[:8] == b"\x89PNG\r\n\x1a\n":
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if mime == "image/svg+xml":
        m = re.search(rb'<svg[^>]*?width="([\d.]+)(pt|px)?"[^>]*?height="([\d.]+)(pt|px)?"', data[:2000])
        if m:
            k = 4 / 3 if m.group(2) == b"pt" else 1
            return round(float(m.group(1)) * k), round(float(m.group(3)) * k)
    return None


def figure(data: bytes, mime: str, alt: str, caption: str, figure_id: str) -> str:
    """A figure: the image as a data URI with its text alternative, and a caption."""
    size = _size(data, mime)
    dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
    uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return (f'<figure id="{esc(figure_id)}"><img class="figure" src="{uri}" alt="{esc(alt)}"{dims} decoding="async">'
            f"<figcaption>{caption}</figcaption></figure>")


def section(section_id: str, title: str, body: str) -> str:
    return f'<section id="{section_id}" aria-labelledby="{section_id}-h"><h2 id="{section_id}-h">{esc(title)}</h2>\n{body}\n</section>'


def cards(pairs: list[tuple[str, str]]) -> str:
    """Key facts as a description list (term: value; the values already escaped)."""
    return '<dl class="cards">' + "".join(f"<div><dt>{esc(k)}</dt><dd>{v}</dd></div>" for k, v in pairs) + "</dl>"


def code(text: str) -> str:
    return f"<code>{esc(text)}</code>"


def page(title: str, subtitle: str, sections: list[tuple[str, str, str]], script: bool = True) -> str:
    """The whole page: `sections` as (id, title, body HTML), listed in the navigation."""
    nav = "".join(f'<li><a href="#{sid}">{esc(name)}</a></li>' for sid, name, _ in sections)
    body = "\n".join(section(sid, name, content) for sid, name, content in sections)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<link rel=\"icon\" href=\"data:,\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body>"
            f"<header class=\"top\"><h1>{esc(title)}</h1><p>{subtitle}</p></header>"
            f"<nav class=\"toc\" aria-label=\"Sections\"><ul>{nav}</ul></nav>\n<main>\n{body}\n</main>"
            + (f"<script>{SCRIPT}</script>" if script else "") + "</body></html>\n")
