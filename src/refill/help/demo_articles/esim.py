# ruff: noqa: E501 - the articles are prose: one paragraph or list item per line, as staff type them.
"""Demo articles about the eSIM: installing, moving to a new phone, and troubleshooting per phone
family (iPhone, Samsung and other Android phones, Google Pixel)."""

from __future__ import annotations

from refill.help import topics
from refill.help.models import Article

from .article import DemoArticle

C = Article.Category

ARTICLES: tuple[DemoArticle, ...] = (
    DemoArticle(
        topics.ESIM_INSTALL,
        C.ESIM,
        "install-esim",
        "How to install or re-install your eSIM (iPhone and Android)",
        "如何安装或重新安装 eSIM（iPhone 和安卓）",
        """Your eSIM is installed from the **eSIM and new phone** page of your line. Connect the phone to Wi-Fi before you start.

## Find your activation code
1. Open [My lines](/lines/) and press **eSIM and new phone** under the number.
2. Under **Scan to install** you see a QR code and the **Activation code** (press **Copy** to copy it).

Keep the code private: anyone who has it can install your number on their phone until you do.

## iPhone
1. On iOS 17.4 or later, open the eSIM page on the iPhone itself and press **Install on this iPhone**.
2. Otherwise go to Settings → Mobile Service (or Cellular) → Add eSIM → Use QR Code, and scan the QR code shown on another screen. You can also tap "Enter Details Manually" and paste the activation code.
3. Give the line a label, choose it for mobile data if you wish, and wait until it shows your operator.

## Android
1. Go to Settings → Network & internet → SIMs → Add SIM (on Samsung: Settings → Connections → SIM manager → Add eSIM).
2. Scan the QR code, or choose to enter a code and paste the activation code.
3. Turn the new eSIM on and wait until it shows your operator.

## New phone, or installing again
An activation code can be used once. If you change phone, reset your phone or deleted the eSIM:
1. Open **eSIM and new phone** for the line.
2. Press **Get a new activation code**. The old code stops working.
3. Install the new code as above.

An eSIM can only be downloaded a limited number of times (the page tells you how many are left). Do not delete the eSIM from your old phone until the new one works. If the limit is reached, the page says so: contact us for a new eSIM profile.

## It does not work
- Check that the phone is connected to Wi-Fi and supports eSIM.
- The page shows the installation progress; wait a few minutes and reload it.
- If the line shows no signal after installing, restart the phone and check that the line is active on [My lines](/lines/).""",
        """eSIM 需要在号码的 **eSIM 与换新手机** 页面安装。开始之前，请先将手机连接到 Wi-Fi。

## 找到激活码
1. 打开[我的号码](/lines/)，在号码下方点击 **eSIM 与换新手机**。
2. 在 **扫码安装** 下方可以看到二维码和 **激活码**（点击 **复制** 即可复制）。

请妥善保管激活码：在您安装之前，任何拿到激活码的人都可以把您的号码装到他们的手机上。

## iPhone
1. 如果是 iOS 17.4 或更高版本，请直接在这部 iPhone 上打开 eSIM 页面，点击 **在此 iPhone 上安装**。
2. 其他版本请进入"设置 → 蜂窝网络 → 添加 eSIM → 使用二维码"，扫描另一块屏幕上显示的二维码；也可以点击"手动输入详细信息"，粘贴激活码。
3. 为号码设置标签，按需选择用于蜂窝数据，等待显示运营商名称即可。

## 安卓手机
1. 进入"设置 → 网络和互联网 → SIM 卡 → 添加 SIM 卡"（三星手机：设置 → 连接 → SIM 卡管理器 → 添加 eSIM）。
2. 扫描二维码，或选择输入代码并粘贴激活码。
3. 启用新的 eSIM，等待显示运营商名称即可。

## 换新手机或重新安装
每个激活码只能使用一次。如果您换了手机、重置了手机或删除了 eSIM：
1. 打开该号码的 **eSIM 与换新手机** 页面。
2. 点击 **获取新的激活码**，旧的激活码随即失效。
3. 按上面的步骤安装新的激活码。

每个 eSIM 的下载次数有限（页面会显示剩余次数）。在新手机上安装成功之前，请不要删除旧手机上的 eSIM。如果次数已用完，页面会提示您，请联系我们获取新的 eSIM。

## 安装不成功
- 确认手机已连接 Wi-Fi，并且支持 eSIM。
- 页面会显示安装进度，请等待几分钟后刷新页面。
- 如果安装后没有信号，请重启手机，并在[我的号码](/lines/)中确认号码处于正常状态。""",
        keywords_en="install, set up, setup, activate, activation, qr code, scan",
        keywords_zh_hans="安装, 激活, 设置, 二维码, 扫码",
    ),
    DemoArticle(
        topics.ESIM_NEW_PHONE,
        C.ESIM,
        "move-esim-to-new-phone",
        "Moving your number to a new phone (eSIM)",
        "换手机：把 eSIM 号码转到新手机",
        """Your number moves to a new phone with a new activation code. Your plan, allowances, wallet and auto-renew do not change.

## Before you start
- Keep the old phone and its eSIM until the new phone works: you may need texts on the old one (for example a bank code).
- Connect the new phone to Wi-Fi.
- Check that the new phone supports eSIM and is not locked to another operator.

## Move it
1. On any screen, open [My lines](/lines/) and press **eSIM and new phone** under the number.
2. Press **Get a new activation code**. The old code and the eSIM on the old phone stop working once the new one is installed.
3. On the new phone, install the new code: see [How to install your eSIM](/help/install-esim/), or the steps for [iPhone](/help/esim-iphone/), [Samsung and other Android phones](/help/esim-samsung-android/) or [Google Pixel](/help/esim-google-pixel/).
4. When the new phone shows the operator and you can call, delete the eSIM from the old phone.

## Limits
- An eSIM can be downloaded **3 times**; the page shows how many are left. Each new phone, reset or reinstall uses one.
- When none are left, the page says so: [contact support](/support/new/) for a new eSIM profile.
- A new code cannot be made while a download is in progress, or for a number that is not paid for yet.

## Physical SIM
A line on a physical SIM moves by putting the SIM card in the new phone. For a new SIM card or a change to eSIM, [contact support](/support/new/).

## Phone-to-phone transfer
Some phones offer to move an eSIM by themselves (for example "eSIM Quick Transfer" on iPhone). This needs support from the operator and may not work with your line: use **Get a new activation code** instead.""",
        """换手机时，用新的激活码就可以把号码转到新手机上。您的套餐、剩余用量、钱包和自动续费都不会改变。

## 开始之前
- 在新手机可以正常使用之前，请保留旧手机和旧手机上的 eSIM：您可能还需要在旧手机上接收短信（例如银行验证码）。
- 将新手机连接到 Wi-Fi。
- 确认新手机支持 eSIM，并且没有被其他运营商锁定。

## 转移步骤
1. 打开[我的号码](/lines/)，在号码下方点击 **eSIM 与换新手机**。
2. 点击 **获取新的激活码**。新 eSIM 安装后，旧激活码和旧手机上的 eSIM 都会失效。
3. 在新手机上安装新的激活码：请参阅[如何安装 eSIM](/help/install-esim/)，或 [iPhone](/help/esim-iphone/)、[三星及其他安卓手机](/help/esim-samsung-android/)、[Google Pixel](/help/esim-google-pixel/) 的步骤。
4. 新手机显示运营商名称并且可以通话后，再删除旧手机上的 eSIM。

## 次数限制
- 每个 eSIM 最多可以下载 **3 次**，页面会显示剩余次数。每次换手机、重置手机或重新安装都会用掉一次。
- 次数用完后，页面会提示您，请[联系客服](/support/new/)获取新的 eSIM。
- 正在下载时，或号码尚未付款时，无法获取新的激活码。

## 实体 SIM 卡
使用实体 SIM 卡的号码，把 SIM 卡放进新手机即可。如需补办 SIM 卡或改用 eSIM，请[联系客服](/support/new/)。

## 手机之间直接转移
有些手机可以自行转移 eSIM（例如 iPhone 的“eSIM 快速转移”）。这需要运营商支持，您的号码可能无法使用：请改用 **获取新的激活码**。""",
        keywords_en="new phone, change phone, switch phone, transfer, move esim, replace phone, upgrade phone, lost phone, stolen",
        keywords_zh_hans="换手机, 新手机, 换机, 转移, 迁移, 手机丢了, 换新手机",
    ),
    DemoArticle(
        topics.ESIM_TROUBLESHOOTING,
        C.ESIM,
        "esim-not-working",
        "eSIM not working: no signal, no data or it will not install",
        "eSIM 无法使用：没信号、不能上网或安装失败",
        """Most eSIM problems are fixed by one of these checks. Go through them in order.

## 1. Is the line in service?
Open [My lines](/lines/). If the plan has ended, the line is in its **grace period** (incoming calls and texts only, no data) or **suspended** (nothing works): renew and it works again at once. See [Grace period and suspension](/help/grace-suspension-number-kept/).

## 2. Did the eSIM install?
Open **eSIM and new phone** for the line. The page shows where the installation is:
- **Ready to install. Waiting for your phone to download it**: the code has not been used yet. Install it: [How to install your eSIM](/help/install-esim/).
- **Your phone has downloaded the eSIM and is installing it**: wait a few minutes with the phone on Wi-Fi.
- **The installation did not finish**: check the phone's connection, then install again from the same page.

## 3. No signal after installing
1. Turn flight mode on, wait 10 seconds, and turn it off.
2. Restart the phone.
3. Check that the eSIM line is turned on, and chosen for calls and mobile data.
4. Abroad, turn on data roaming for this line; see [Roaming](/help/roaming/).
5. Update the phone's software.

## 4. It will not install
- The phone must be on Wi-Fi, support eSIM and not be locked to another operator.
- "Code no longer valid" or similar: the code was used or replaced. Press **Get a new activation code**.
- The eSIM can be downloaded 3 times. If the page says the limit is reached, [contact support](/support/new/).

## Steps for your phone
- [iPhone](/help/esim-iphone/)
- [Samsung and other Android phones](/help/esim-samsung-android/)
- [Google Pixel](/help/esim-google-pixel/)

## Still not working?
[Contact support](/support/new/) with the number, the phone model and software version, and what the screen says (a screenshot helps).""",
        """大多数 eSIM 问题都可以通过以下检查解决，请按顺序进行。

## 1. 号码是否可以正常使用？
打开[我的号码](/lines/)。如果套餐已到期，号码会处于 **宽限期**（只能接听电话和接收短信，不能上网）或 **已停机**（所有服务都不可用）：续费后立即恢复。请参阅[宽限期与停机](/help/grace-suspension-number-kept/)。

## 2. eSIM 是否已安装？
打开号码的 **eSIM 与换新手机** 页面，页面会显示安装进度：
- **可以安装了。正在等待您的手机下载**：激活码还没有使用，请按[如何安装 eSIM](/help/install-esim/)安装。
- **您的手机已下载 eSIM，正在安装**：请让手机保持连接 Wi-Fi，等待几分钟。
- **安装未完成**：请检查手机的网络连接，然后在同一页面重新安装。

## 3. 安装后没信号
1. 打开飞行模式，等待 10 秒后关闭。
2. 重启手机。
3. 确认 eSIM 号码已启用，并已选为通话和移动数据使用的号码。
4. 在国外时，请为这个号码打开数据漫游，请参阅[漫游](/help/roaming/)。
5. 更新手机系统。

## 4. 无法安装
- 手机必须连接 Wi-Fi、支持 eSIM，并且没有被其他运营商锁定。
- 提示“激活码已失效”或类似内容：激活码已被使用或已被替换，请点击 **获取新的激活码**。
- 每个 eSIM 最多可以下载 3 次。如果页面提示次数已用完，请[联系客服](/support/new/)。

## 按手机查看步骤
- [iPhone](/help/esim-iphone/)
- [三星及其他安卓手机](/help/esim-samsung-android/)
- [Google Pixel](/help/esim-google-pixel/)

## 仍然无法使用？
请[联系客服](/support/new/)，并告诉我们号码、手机型号和系统版本，以及屏幕上显示的内容（附上截图更好）。""",
        keywords_en="not working, no signal, no service, no data, no internet, cannot call, sos only, broken, problem, troubleshoot, fix, install failed",
        keywords_zh_hans="没信号, 无信号, 无服务, 不能上网, 没网, 打不了电话, 仅限紧急呼叫, 用不了, 不能用, 故障, 安装失败",
    ),
    DemoArticle(
        topics.ESIM_IPHONE,
        C.ESIM,
        "esim-iphone",
        "eSIM on iPhone: install and fix problems",
        "iPhone 上的 eSIM：安装与故障排除",
        """All iPhones from the XS and XR onwards support eSIM. Connect to Wi-Fi first.

## Install
1. On iOS 17.4 or later, open the line's **eSIM and new phone** page on the iPhone itself and tap **Install on this iPhone**.
2. Otherwise go to Settings → Mobile Service (or Cellular) → Add eSIM → Use QR Code, and scan the QR code shown on another screen, or tap "Enter Details Manually" and paste the activation code.
3. Give the line a label, choose it for mobile data if you wish, and wait until it shows the operator.

## No signal or no data
1. Settings → Mobile Service: tap the line and check that **Turn On This Line** is on.
2. Choose it under **Mobile Data** (and **Default Voice Line** if you have two lines).
3. Abroad: tap the line and turn on **Data Roaming**.
4. Turn Flight Mode on and off, then restart the iPhone.
5. Settings → General → About: if **Carrier Lock** does not say "No SIM restrictions", the iPhone is locked to another operator: ask that operator to unlock it.
6. Settings → General → Software Update: install any update.

## Messages you may see
- **"This code is no longer valid"**: the code was used or replaced. Get a new one on the **eSIM and new phone** page.
- **"Unable to Complete Cellular Plan Change"**: check Wi-Fi and try again in a few minutes.
- **"SIM Not Supported"**: the iPhone is locked to another operator.

## Careful
Do not delete the eSIM or erase the iPhone to fix a problem: each new download uses one of the 3 allowed. See [eSIM not working](/help/esim-not-working/) and [Moving your number to a new phone](/help/move-esim-to-new-phone/).""",
        """iPhone XS、XR 及之后的所有 iPhone 都支持 eSIM。开始前请先连接 Wi-Fi。

## 安装
1. 如果是 iOS 17.4 或更高版本，请在这部 iPhone 上打开号码的 **eSIM 与换新手机** 页面，轻点 **在此 iPhone 上安装**。
2. 其他版本请进入“设置 → 蜂窝网络 → 添加 eSIM → 使用二维码”，扫描另一块屏幕上的二维码；也可以轻点“手动输入详细信息”，粘贴激活码。
3. 为号码设置标签，按需选择用于蜂窝数据，等待显示运营商名称即可。

## 没信号或不能上网
1. 进入“设置 → 蜂窝网络”，轻点该号码，确认 **启用此号码** 已打开。
2. 在 **蜂窝数据** 中选择该号码（如有两个号码，也在 **默认语音号码** 中选择）。
3. 在国外时：轻点该号码，打开 **数据漫游**。
4. 打开再关闭飞行模式，然后重启 iPhone。
5. 进入“设置 → 通用 → 关于本机”：如果 **运营商锁** 不是“无 SIM 卡限制”，说明 iPhone 被其他运营商锁定，请联系该运营商解锁。
6. 进入“设置 → 通用 → 软件更新”，安装可用的更新。

## 可能看到的提示
- **“此代码已失效”**：激活码已被使用或已被替换。请在 **eSIM 与换新手机** 页面获取新的激活码。
- **“无法完成蜂窝号码更改”**：请检查 Wi-Fi，几分钟后重试。
- **“不支持的 SIM 卡”**：iPhone 被其他运营商锁定。

## 注意
请不要为了排除故障而删除 eSIM 或抹掉 iPhone：每次重新下载都会用掉 3 次机会中的一次。请参阅[eSIM 无法使用](/help/esim-not-working/)和[换手机](/help/move-esim-to-new-phone/)。""",
        keywords_en="iphone, apple, ios, ipad, cellular, mobile service, carrier lock, sim not supported",
        keywords_zh_hans="iPhone, 苹果, 苹果手机, iOS, 蜂窝网络, 运营商锁, 不支持的SIM卡",
    ),
    DemoArticle(
        topics.ESIM_SAMSUNG,
        C.ESIM,
        "esim-samsung-android",
        "eSIM on Samsung Galaxy and other Android phones: install and fix problems",
        "三星及其他安卓手机上的 eSIM：安装与故障排除",
        """Most recent Samsung Galaxy S, Z and A phones support eSIM, as do many other Android phones. The menu names below are Samsung's; other brands use similar ones. Connect to Wi-Fi first.

## Install
1. Samsung: Settings → Connections → SIM manager → **Add eSIM**. Other Android phones: Settings → Network & internet → SIMs → Add SIM.
2. Choose **Scan QR code from service provider** and scan the QR code from the line's **eSIM and new phone** page, or choose to enter the code and paste the activation code.
3. Turn the new eSIM on and wait until it shows the operator.

## No signal or no data
1. Settings → Connections → SIM manager: check that the eSIM is on, and chosen under **Mobile data** and **Calls**.
2. Settings → Connections → Mobile networks: turn **Data roaming** on if you are abroad; under **Network operators**, choose **Select automatically**.
3. Turn flight mode on and off, then restart the phone.
4. Settings → Software update: install any update.
5. A phone bought from another operator may be locked to it: ask that operator to unlock it.

## If the phone asks for mobile data settings (APN)
The eSIM sets them by itself. If data still does not work, [contact support](/support/new/) and we tell you the settings for your line.

## Careful
Do not remove the eSIM or reset the phone to fix a problem: each new download uses one of the 3 allowed. See [eSIM not working](/help/esim-not-working/) and [Moving your number to a new phone](/help/move-esim-to-new-phone/).""",
        """三星 Galaxy S、Z 和 A 系列的较新机型，以及许多其他安卓手机都支持 eSIM。以下菜单名称以三星为例，其他品牌大致相同。开始前请先连接 Wi-Fi。

## 安装
1. 三星：进入“设置 → 连接 → SIM 卡管理器 → **添加 eSIM**”。其他安卓手机：进入“设置 → 网络和互联网 → SIM 卡 → 添加 SIM 卡”。
2. 选择 **扫描服务提供商提供的二维码**，扫描号码 **eSIM 与换新手机** 页面上的二维码；也可以选择输入代码并粘贴激活码。
3. 启用新的 eSIM，等待显示运营商名称即可。

## 没信号或不能上网
1. 进入“设置 → 连接 → SIM 卡管理器”，确认 eSIM 已启用，并在 **移动数据** 和 **通话** 中选择了它。
2. 进入“设置 → 连接 → 移动网络”：在国外时打开 **数据漫游**；在 **网络运营商** 中选择 **自动选择**。
3. 打开再关闭飞行模式，然后重启手机。
4. 进入“设置 → 软件更新”，安装可用的更新。
5. 从其他运营商购买的手机可能被锁定，请联系该运营商解锁。

## 手机要求填写移动数据设置（APN）
eSIM 会自动完成设置。如果仍然不能上网，请[联系客服](/support/new/)，我们会告诉您该号码的设置。

## 注意
请不要为了排除故障而删除 eSIM 或重置手机：每次重新下载都会用掉 3 次机会中的一次。请参阅[eSIM 无法使用](/help/esim-not-working/)和[换手机](/help/move-esim-to-new-phone/)。""",
        keywords_en="samsung, galaxy, android, sim manager, apn, xiaomi, huawei, oppo, vivo, oneplus, motorola",
        keywords_zh_hans="三星, 安卓, 安卓手机, SIM卡管理器, 小米, 华为, OPPO, vivo, 一加",
    ),
    DemoArticle(
        topics.ESIM_PIXEL,
        C.ESIM,
        "esim-google-pixel",
        "eSIM on Google Pixel: install and fix problems",
        "Google Pixel 上的 eSIM：安装与故障排除",
        """Pixel phones from the Pixel 3 onwards support eSIM. Connect to Wi-Fi first.

## Install
1. Settings → Network & internet → SIMs → **Add SIM** (on some versions: **Download a SIM instead?**).
2. Scan the QR code from the line's **eSIM and new phone** page, or tap **Need help?** → **Enter it manually** and paste the activation code.
3. Tap **Activate**, then turn the SIM on and wait until it shows the operator.

## No signal or no data
1. Settings → Network & internet → SIMs: tap the eSIM and check that **Use SIM** is on; choose it for **Mobile data** and **Calls**.
2. Abroad: turn on **Roaming** on the same screen.
3. Turn Airplane mode on and off, then restart the phone.
4. Settings → System → Software updates: install any update.
5. A Pixel bought from another operator may be locked to it: ask that operator to unlock it.

## Careful
Do not erase the eSIM or reset the phone to fix a problem: each new download uses one of the 3 allowed. See [eSIM not working](/help/esim-not-working/) and [Moving your number to a new phone](/help/move-esim-to-new-phone/).""",
        """Pixel 3 及之后的 Pixel 手机都支持 eSIM。开始前请先连接 Wi-Fi。

## 安装
1. 进入“设置 → 网络和互联网 → SIM 卡 → **添加 SIM 卡**”（部分版本显示为 **改为下载 SIM 卡？**）。
2. 扫描号码 **eSIM 与换新手机** 页面上的二维码；也可以轻点 **需要帮助？** → **手动输入**，粘贴激活码。
3. 轻点 **激活**，然后启用 SIM 卡，等待显示运营商名称即可。

## 没信号或不能上网
1. 进入“设置 → 网络和互联网 → SIM 卡”，轻点该 eSIM，确认 **使用 SIM 卡** 已打开，并选择用于 **移动数据** 和 **通话**。
2. 在国外时：在同一页面打开 **漫游**。
3. 打开再关闭飞行模式，然后重启手机。
4. 进入“设置 → 系统 → 软件更新”，安装可用的更新。
5. 从其他运营商购买的 Pixel 可能被锁定，请联系该运营商解锁。

## 注意
请不要为了排除故障而清除 eSIM 或重置手机：每次重新下载都会用掉 3 次机会中的一次。请参阅[eSIM 无法使用](/help/esim-not-working/)和[换手机](/help/move-esim-to-new-phone/)。""",
        keywords_en="pixel, google, android, download a sim, use sim",
        keywords_zh_hans="Pixel, 谷歌, 谷歌手机, 安卓",
    ),
)
