"""The training room's root certificate (ca.crt) for download, and how to install it on a Windows PC.

Browsers on other PCs allow the microphone only over HTTPS; they trust this server's certificate
once its local CA (`trainer tls init`) is installed. The folder is the one `trainer app --https`
serves from (it passes TRAINER_TLS_DIR), else the configured default.
"""

import streamlit as st

from trainer.app import ui
from trainer.tls import TlsError, guide
from trainer.tls.store import read_ca

ui.page_setup("证书")
settings = ui.settings_or_stop()
st.title(":material/verified_user: 安装证书")
st.markdown(
    "在培训教室里，学员电脑的浏览器只有在 **HTTPS** 下才允许使用麦克风。"
    "每台学员电脑**安装一次**本服务器的根证书 `ca.crt`，之后打开训练网页时浏览器不再提示“不安全”，就可以录音了。"
)

try:
    ca = read_ca(settings.tls_folder)
except TlsError as exc:
    st.error(exc.user_message)
    st.stop()
if ca is None:
    st.info(
        "本服务器还没有启用 HTTPS（没有根证书）。管理员请在服务器上运行 `trainer tls init`，"
        "再用 `trainer app --https --address 0.0.0.0` 启动。"
    )
    st.stop()

st.download_button(
    "下载根证书 ca.crt", data=ca.pem, file_name="ca.crt", mime="application/x-x509-ca-cert",
    icon=":material/download:", type="primary",
)
st.caption(f"{ca.common_name}，有效期至 {ca.expires}")
st.markdown(f"指纹（SHA1，安装时 Windows 显示的“指纹”）：`{ca.thumbprint_sha1}`")
st.markdown(f"SHA-256 指纹：`{ca.fingerprint_sha256}`")

st.subheader("方法一：命令")
st.markdown("在 `ca.crt` 所在的文件夹（通常是“下载”），**以管理员身份**打开“命令提示符”，运行：")
st.code(guide.CERTUTIL_MACHINE, language=None)
st.markdown("没有管理员权限时，只为当前用户安装（弹出安全警告时点“是”）：")
st.code(guide.CERTUTIL_USER, language=None)

st.subheader("方法二：双击")
st.markdown("\n".join(f"{i}. {step}" for i, step in enumerate(guide.WIZARD_STEPS, 1)))

st.subheader("装好以后")
st.markdown(
    "关闭并重新打开 Chrome 或 Edge，再打开训练网页：地址栏不再提示“不安全”，第一次录音时选“允许”使用麦克风。"
    "Firefox 使用自己的证书列表，建议使用 Chrome 或 Edge。"
)
