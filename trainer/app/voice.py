"""The customer's line heard in the browser: one small self-contained HTML element (shown with st.iframe).

Sources, first available wins, for each line:
0. clips the centre's instructors recorded (trainer.phrasebook.clips), played in order;
1. the browser's own speech synthesis (Web Speech API: Windows and macOS ship Chinese voices
   that work offline), with the voice named in settings (`browser_voice`), else any Chinese voice;
2. the server's offline TTS (espeak-ng WAV, `trainer.speech`), embedded as a data URL.
Only the spoken text is passed in: stage directions never reach it. The line plays when it
appears; the browser tab remembers `key` (sessionStorage), so a page rerun that redraws the
element does not say it again. In practice a 重听 button repeats it; in exams (`once`) there is none.
"""

from __future__ import annotations

import base64
import json

BROWSER_OFF = ("off", "none", "false", "0")


def customer_voice_html(
    text: str, wav: bytes | None, key: str, *, once: bool, browser_voice: str = "auto", clips: list[bytes] | None = None
) -> str:
    config = {
        "clips": [f"data:audio/wav;base64,{base64.b64encode(c).decode('ascii')}" for c in clips or ()],
        "text": text,
        "key": f"trainer-said-{key}",
        "once": once,
        "wanted": "" if browser_voice.strip().lower() in ("", "auto") else browser_voice.strip(),
        "browser": browser_voice.strip().lower() not in BROWSER_OFF,
    }
    source = f"data:audio/wav;base64,{base64.b64encode(wav).decode('ascii')}" if wav else ""
    button = "" if once else '<button id="b" type="button" style="font:inherit;padding:2px 10px">重听</button>'
    return (
        '<div style="display:flex;gap:10px;align-items:center;font:0.85rem sans-serif;color:#555">'
        f'{button}<span id="m">客户正在说话……</span></div>'
        f'<audio id="a" preload="auto"{f" src={json.dumps(source)}" if source else ""}></audio>'
        "<script>"
        f"const c={json.dumps(config, ensure_ascii=False)};"
        "const a=document.getElementById('a'),m=document.getElementById('m'),b=document.getElementById('b');"
        "const done=()=>{m.textContent=c.once?'客户说完了，请作答。（只播放一次）':'客户说完了，请作答。';document.body.dataset.ended='1';};"
        "function voices(){try{return c.browser&&window.speechSynthesis?speechSynthesis.getVoices():[];}catch(e){return [];}}"
        "function pick(){const vs=voices();return vs.find(v=>c.wanted&&v.name===c.wanted)||vs.find(v=>/^(zh|cmn)/i.test(v.lang||''))||null;}"
        "let n=0;function nextClip(){if(n>=c.clips.length){done();return;}a.src=c.clips[n++];"
        "a.play().catch(()=>{m.textContent='浏览器没有自动播放客户的话'+(c.once?'，请读上面的文字作答。':'，请点“重听”。');});}"
        "function say(){if(c.clips.length){document.body.dataset.source='clip';n=0;a.onended=nextClip;"
        "m.textContent='客户正在说话……';nextClip();return;}"
        "const v=pick();"
        "if(v){const u=new SpeechSynthesisUtterance(c.text);u.voice=v;u.lang=v.lang;u.rate=0.95;u.onend=done;"
        "speechSynthesis.cancel();speechSynthesis.speak(u);document.body.dataset.source='browser';"
        "m.textContent='客户正在说话……（浏览器语音 '+v.name+'）';return;}"
        "if(a.src){document.body.dataset.source='server';a.currentTime=0;"
        "a.play().catch(()=>{m.textContent='浏览器没有自动播放客户的话'+(c.once?'，请读上面的文字作答。':'，请点“重听”。');});return;}"
        "document.body.dataset.source='none';m.textContent='这台电脑没有中文语音，请读上面的文字。';}"
        "a.onended=done;if(b)b.onclick=say;"
        "function start(){let said=false;try{said=sessionStorage.getItem(c.key)==='1';}catch(e){}"
        "if(said){m.textContent=c.once?'客户的话已播放过。':'点“重听”再听一遍。';return;}"
        "try{sessionStorage.setItem(c.key,'1');}catch(e){}say();}"
        "if(c.browser&&window.speechSynthesis&&voices().length===0){let go=false;const once_=()=>{if(!go){go=true;start();}};"
        "try{speechSynthesis.addEventListener('voiceschanged',once_);}catch(e){}setTimeout(once_,700);}else{start();}"
        "</script>"
    )
